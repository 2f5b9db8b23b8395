#!/usr/bin/env Rscript
# Reference fits for test/forecasting/baselines/garch.test.ts: GARCH(1,1) (Bollerslev 1986) with
# standardised Student-t (Bollerslev 1987) or Gaussian innovations, fitted by fGarch::garchFit on daily
# log returns x 100 of Binance spot klines from shared/data.
#
# Run from the project root (R is NOT needed to run the test suite; the output is recorded):
#   Rscript test/forecasting/baselines/reference/garch-fgarch.R \
#     > test/forecasting/baselines/reference/garch-fgarch.expected.json
# Needs: apt-get install -y r-base-core r-cran-fgarch   (the fGarch and R versions are printed below).
#
# Conventions handled here so that the recorded numbers compare directly with liqcal's fit:
# - fGarch's fit@fit$llh is the NEGATIVE log-likelihood (the minimised objective); we print logLik = -llh.
# - init.rec = "mci" (the default): h[1] = omega + (alpha1 + beta1) * mean(z^2), z = x - mu over the whole
#   sample, and the likelihood sums over every observation (llh.start = 1). We recompute that likelihood in
#   plain R at the fitted parameters (logLikCheck) to prove the convention, and print fGarch's own h[1].
# - garchFit scales the series by its sd internally (control xscale = TRUE) and maps omega and mu back; the
#   parameters and the likelihood printed are in the units of the data passed in (percent log returns).
# - fGarch bounds each of alpha1, beta1 to (1e-8, 1 - 1e-8) and shape to [1, 10] but does NOT impose
#   alpha1 + beta1 < 1. On BTCUSDT 2018-2023 its optimum has alpha1 + beta1 ~ 1.035 (see "persistence").
suppressPackageStartupMessages(library(fGarch))

returns <- function(symbol, from, to) {
  csv <- file.path("..", "shared", "data", "market", "binance-spot__finom-static-klines", symbol, "1d", paste0(symbol, "-1d.csv"))
  bars <- read.csv(csv)
  stopifnot(all(diff(bars$open_time_ms) == 86400000))
  r <- 100 * diff(log(bars$close))
  t <- bars$open_time_ms[-1]
  r[t >= as.numeric(as.POSIXct(from, tz = "UTC")) * 1000 & t < as.numeric(as.POSIXct(to, tz = "UTC")) * 1000]
}

mci_loglik <- function(x, mu, omega, alpha1, beta1, shape, dist) {
  z <- x - mu
  n <- length(z)
  h <- numeric(n)
  h[1] <- omega + (alpha1 + beta1) * mean(z^2)
  for (i in 2:n) h[i] <- omega + alpha1 * z[i - 1]^2 + beta1 * h[i - 1]
  d <- if (dist == "std") dstd(z / sqrt(h), mean = 0, sd = 1, nu = shape) else dnorm(z / sqrt(h))
  sum(log(d / sqrt(h)))
}

num <- function(name, v) sprintf('"%s": %.17g', name, v)

fit_one <- function(x, include_mean, dist) {
  f <- garchFit(~ garch(1, 1), data = x, cond.dist = dist, include.mean = include_mean, trace = FALSE)
  cf <- coef(f)
  mu <- if (include_mean) unname(cf["mu"]) else 0
  shape <- if (dist == "std") unname(cf["shape"]) else NA
  chk <- mci_loglik(x, mu, cf["omega"], cf["alpha1"], cf["beta1"], shape, dist)
  fields <- c(
    sprintf('"condDist": "%s"', dist),
    sprintf('"includeMean": %s', if (include_mean) "true" else "false"),
    if (include_mean) num("mu", mu),
    num("omega", cf["omega"]), num("alpha1", cf["alpha1"]), num("beta1", cf["beta1"]),
    if (dist == "std") num("shape", shape),
    num("persistence", cf["alpha1"] + cf["beta1"]),
    num("logLik", -f@fit$llh), num("logLikCheck", chk), num("h1", f@h.t[1])
  )
  paste0("{ ", paste(fields, collapse = ", "), " }")
}

series_block <- function(symbol, from, to, fits) {
  x <- returns(symbol, from, to)
  body <- paste(sprintf('      "%s": %s', names(fits), vapply(fits, function(s) fit_one(x, s$mean, s$dist), "")), collapse = ",\n")
  paste0(
    "    {\n",
    sprintf('      "symbol": "%s", "interval": "1d", "from": "%s", "to": "%s",\n', symbol, from, to),
    sprintf('      "n": %d, "sumX": %.17g, "sumX2": %.17g,\n', length(x), sum(x), sum(x^2)),
    body, "\n    }"
  )
}

cat("{\n")
cat(sprintf('  "source": "fGarch %s garchFit(~garch(1,1), init.rec = \\"mci\\", algorithm = \\"nlminb\\"), %s",\n',
            as.character(packageVersion("fGarch")), R.version.string))
cat('  "data": "binance-spot__finom-static-klines, 100 * log close-to-close returns of the bars opening in [from, to) UTC",\n')
cat('  "series": [\n')
cat(series_block("BTCUSDT", "2018-01-01", "2024-01-01", list(
  zeroMeanT = list(mean = FALSE, dist = "std"),
  constantMeanT = list(mean = TRUE, dist = "std"),
  zeroMeanNormal = list(mean = FALSE, dist = "norm"))), ",\n", sep = "")
# A window whose unconstrained optimum is covariance-stationary (alpha1 + beta1 < 1), so liqcal's
# forecaster (which imposes alpha1 + beta1 < 1) must land on fGarch's optimum itself.
cat(series_block("ETHUSDT", "2018-01-01", "2022-01-01", list(
  zeroMeanT = list(mean = FALSE, dist = "std"))), "\n", sep = "")
cat("  ]\n}\n")

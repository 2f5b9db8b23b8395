/**
 * The model registry on disk. Layout:
 *
 *   <root>/<name>/<version>/model.json   { format, name, version, spec, state, weights: { file, bytes, sha256 } | null }
 *   <root>/<name>/<version>/weights.bin  binary weights (neural models only)
 *   <root>/<name>/<version>/card.json    the model card (modelCardSchema)
 *   <root>/<name>/PROMOTED.json          { version, promotedAtMs }: the version updaters and reports use
 *
 * Versions are zero-padded increasing integers (000001, 000002, …). Every write is atomic: a version is written
 * into a temporary directory beside it and renamed into place (a rename onto an existing version fails, so two
 * concurrent writers get distinct versions), and PROMOTED.json is replaced by renaming a temporary file.
 * Readers validate everything and fail with an AppError naming the path and the fix.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { AppError, formatIssues } from '../core/errors.ts';
import { systemClock, type Clock } from '../core/time.ts';
import type { ModelArtifact } from './forecaster.ts';

/** Format tag of model.json. */
export const MODEL_FILE_FORMAT = 'liqcal-model/1';
const VERSION_RE = /^\d{6,}$/;
const NAME_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

/** Schema of a model card: provenance and quality of one saved model version, for reviewers and gates. */
export const modelCardSchema = z.object({
  /** Registry name of the model (e.g. `ml-24h`). */
  name: z.string().min(1),
  /** Forecaster kind (`ml`, `har`, …). */
  kind: z.string().min(1),
  /** When the model was trained, epoch ms. */
  createdAtMs: z.number().int(),
  /** Bar open times of the first and last training origin, and the fit cut-off, epoch ms. */
  dataRange: z.object({ fromMs: z.number(), toMs: z.number(), fitEndMs: z.number().optional() }),
  symbols: z.array(z.string()),
  interval: z.string().optional(),
  horizonBars: z.number().int().positive().optional(),
  features: z.array(z.string()),
  featureHash: z.string(),
  spec: z.object({ kind: z.string() }).loose(),
  seed: z.number().int(),
  /** TensorFlow.js backend the model was trained on (`wasm`, `tensorflow`, `cpu`), or `none` for non-neural models. */
  backend: z.string().min(1),
  trainingMs: z.number().nonnegative(),
  samplesPerSec: z.number().nonnegative().optional(),
  /** Named metrics (validation losses, Brier, QLIKE, coverage…); null where undefined. */
  metrics: z.record(z.string(), z.number().nullable()),
  notes: z.string().optional(),
});

/** A model card (see {@link modelCardSchema}). */
export type ModelCard = z.infer<typeof modelCardSchema>;

const modelFileSchema = z.object({
  format: z.literal(MODEL_FILE_FORMAT),
  name: z.string(),
  version: z.string(),
  spec: z.object({ kind: z.string() }).loose(),
  state: z.unknown(),
  weights: z.object({ file: z.literal('weights.bin'), bytes: z.number().int().min(0), sha256: z.string().length(64) }).nullable(),
});

const promotedSchema = z.object({ version: z.string().regex(VERSION_RE), promotedAtMs: z.number() });

/** A loaded model version. */
export interface LoadedModel {
  readonly artifact: ModelArtifact;
  readonly card: ModelCard;
  readonly version: string;
}

/** One registry entry as listed by {@link listModels}. */
export interface ModelListing {
  readonly name: string;
  /** Ascending. */
  readonly versions: string[];
  readonly promoted: string | null;
}

function checkName(name: string): void {
  if (!NAME_RE.test(name) || name.includes('..')) throw new AppError('config', `Model name "${name}" is not allowed: use letters, digits, '.', '_' and '-' (starting with a letter or digit).`, { context: { name } });
}

function checkVersion(version: string, name: string): void {
  if (!VERSION_RE.test(version)) throw new AppError('config', `Version "${version}" of model ${name} is not a registry version: versions are zero-padded integers such as 000001 (see \`listModels\`).`, { context: { name, version } });
}

const sha256 = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');
const padVersion = (n: number): string => String(n).padStart(6, '0');

function readJson(path: string, fix: string): unknown {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new AppError('io', `Cannot read ${path} (${(e as NodeJS.ErrnoException).code ?? String(e)}); ${fix}`, { context: { path }, cause: e });
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (e) {
    throw new AppError('schema', `${path} is not valid JSON (${(e as Error).message}); the file is corrupt — ${fix}`, { context: { path }, cause: e });
  }
}

function parseWith<T>(schema: z.ZodType<T>, value: unknown, path: string, fix: string): T {
  const r = schema.safeParse(value);
  if (!r.success) throw new AppError('schema', `${path} does not match the expected layout (${formatIssues(r.error.issues)}); ${fix}`, { context: { path, issues: r.error.issues.slice(0, 5) } });
  return r.data;
}

/** Existing versions of a model, ascending (temporary and foreign entries are ignored). */
function versionsOf(modelDir: string): string[] {
  if (!existsSync(modelDir)) return [];
  return readdirSync(modelDir).filter((v) => VERSION_RE.test(v) && statSync(join(modelDir, v)).isDirectory()).sort((a, b) => Number(a) - Number(b));
}

/**
 * Saves a model version atomically and returns its directory and version. The card is validated first.
 * @param rootDir - Registry root (e.g. `models/`); created if missing.
 * @param name - Registry name of the model.
 */
export function saveModel(rootDir: string, name: string, artifact: ModelArtifact, card: ModelCard): { dir: string; version: string } {
  checkName(name);
  const validCard = parseWith(modelCardSchema, card, `the card of model ${name}`, 'fill in the missing card fields before saving.');
  const modelDir = join(rootDir, name);
  mkdirSync(modelDir, { recursive: true });
  const tmp = join(modelDir, `.tmp-${process.pid}-${Math.random().toString(36).slice(2, 10)}`);
  mkdirSync(tmp);
  try {
    const weights = artifact.weights ?? null;
    if (weights) writeFileSync(join(tmp, 'weights.bin'), weights);
    writeFileSync(join(tmp, 'card.json'), `${JSON.stringify(validCard, null, 2)}\n`);
    for (let attempt = 0; attempt < 1000; attempt++) {
      const existing = versionsOf(modelDir);
      const version = padVersion((existing.length ? Number(existing[existing.length - 1]) : 0) + 1 + attempt);
      const file = { format: MODEL_FILE_FORMAT, name, version, spec: artifact.spec, state: artifact.state, weights: weights ? { file: 'weights.bin', bytes: weights.byteLength, sha256: sha256(weights) } : null };
      writeFileSync(join(tmp, 'model.json'), `${JSON.stringify(file)}\n`);
      const dir = join(modelDir, version);
      try {
        renameSync(tmp, dir);
        return { dir, version };
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        if (code !== 'EEXIST' && code !== 'ENOTEMPTY' && code !== 'EPERM') throw e;
      }
    }
    throw new AppError('io', `Could not allocate a new version of model ${name} under ${modelDir}; remove stale versions and retry.`, { context: { modelDir } });
  } catch (e) {
    rmSync(tmp, { recursive: true, force: true });
    if (e instanceof AppError) throw e;
    throw new AppError('io', `Cannot write model ${name} under ${modelDir} (${(e as NodeJS.ErrnoException).code ?? String(e)}); check that the directory is writable and has space.`, { context: { modelDir }, cause: e });
  }
}

/**
 * Loads one version: model.json (checked), weights.bin (length and sha256 checked) and card.json (checked).
 */
export function loadModel(rootDir: string, name: string, version: string): LoadedModel {
  checkName(name);
  checkVersion(version, name);
  const dir = join(rootDir, name, version);
  if (!existsSync(dir)) {
    const have = versionsOf(join(rootDir, name));
    throw new AppError('io', `Model ${name} has no version ${version} under ${rootDir}${have.length ? ` (it has ${have.join(', ')})` : ''}; train and save it, or pick an existing version.`, { context: { dir, versions: have } });
  }
  const fix = `retrain and save model ${name} again, or delete ${dir}.`;
  const modelPath = join(dir, 'model.json');
  const file = parseWith(modelFileSchema, readJson(modelPath, fix), modelPath, fix);
  let weights: Uint8Array | undefined;
  if (file.weights) {
    const wPath = join(dir, file.weights.file);
    try {
      weights = new Uint8Array(readFileSync(wPath));
    } catch (e) {
      throw new AppError('io', `Cannot read ${wPath} (${(e as NodeJS.ErrnoException).code ?? String(e)}); ${fix}`, { context: { path: wPath }, cause: e });
    }
    if (weights.byteLength !== file.weights.bytes || sha256(weights) !== file.weights.sha256) {
      throw new AppError('schema', `${wPath} does not match model.json (${weights.byteLength} bytes, expected ${file.weights.bytes}, or a different checksum); the weights are corrupt — ${fix}`, { context: { path: wPath } });
    }
  }
  const cardPath = join(dir, 'card.json');
  const card = parseWith(modelCardSchema, readJson(cardPath, fix), cardPath, fix);
  const artifact: ModelArtifact = weights ? { spec: file.spec, state: file.state, weights } : { spec: file.spec, state: file.state };
  return { artifact, card, version };
}

/**
 * Promotes a version (it must load cleanly): atomically replaces `<root>/<name>/PROMOTED.json`.
 */
export function promoteModel(rootDir: string, name: string, version: string, clock: Clock = systemClock): { version: string } {
  loadModel(rootDir, name, version);
  const path = join(rootDir, name, 'PROMOTED.json');
  const tmp = `${path}.tmp-${process.pid}-${Math.random().toString(36).slice(2, 10)}`;
  try {
    writeFileSync(tmp, `${JSON.stringify({ version, promotedAtMs: clock.now() })}\n`);
    renameSync(tmp, path);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw new AppError('io', `Cannot write ${path} (${(e as NodeJS.ErrnoException).code ?? String(e)}); check that the directory is writable.`, { context: { path }, cause: e });
  }
  return { version };
}

/** The promoted version of a model, or null when none was promoted. */
export function promotedVersion(rootDir: string, name: string): string | null {
  checkName(name);
  const path = join(rootDir, name, 'PROMOTED.json');
  if (!existsSync(path)) return null;
  const fix = `promote a version again with promoteModel (or \`liqcal models promote\`).`;
  return parseWith(promotedSchema, readJson(path, fix), path, fix).version;
}

/** Loads the promoted version of a model. */
export function loadPromoted(rootDir: string, name: string): LoadedModel {
  const version = promotedVersion(rootDir, name);
  if (version === null) {
    const have = versionsOf(join(rootDir, name));
    throw new AppError('io', `Model ${name} has no promoted version under ${rootDir}${have.length ? ` (saved versions: ${have.join(', ')})` : ' (and no saved versions)'}; train it and promote a version first.`, { context: { rootDir, name, versions: have } });
  }
  return loadModel(rootDir, name, version);
}

/** Every model under the root with its versions and promoted version, by name. A missing root lists nothing. */
export function listModels(rootDir: string): ModelListing[] {
  if (!existsSync(rootDir)) return [];
  return readdirSync(rootDir)
    .filter((n) => NAME_RE.test(n) && statSync(join(rootDir, n)).isDirectory())
    .sort()
    .map((name) => {
      let promoted: string | null = null;
      try { promoted = promotedVersion(rootDir, name); } catch { promoted = null; }
      return { name, versions: versionsOf(join(rootDir, name)), promoted };
    });
}

/**
 * Seeded pseudo-random numbers. Every random draw in liqcal goes through one of these so that
 * runs are reproducible from their seed.
 */

/** A seeded generator of uniform and derived variates. */
export interface Rng {
  /** Uniform on [0, 1). */
  next(): number;
  /** Standard normal N(0, 1). */
  normal(): number;
  /** Student-t with `nu` degrees of freedom, scaled to unit variance (nu > 2). */
  studentT(nu: number): number;
  /** Integer uniform on [0, n). */
  int(n: number): number;
}

/** splitmix32 hash of a 32-bit seed; spreads nearby seeds apart. */
function splitmix32(a: number): number {
  a = (a + 0x9e3779b9) | 0;
  let t = a ^ (a >>> 16);
  t = Math.imul(t, 0x21f0aaad);
  t ^= t >>> 15;
  t = Math.imul(t, 0x735a2d97);
  return (t ^ (t >>> 15)) >>> 0;
}

/** Derives a sub-seed from a seed and a label, so independent streams (per symbol, per component) stay independent. */
export function deriveSeed(seed: number, label: string): number {
  let h = splitmix32(seed >>> 0);
  for (let i = 0; i < label.length; i++) h = splitmix32((h ^ label.charCodeAt(i)) >>> 0);
  return h;
}

/** Creates a sfc32 generator seeded from `seed` (any integer). */
export function createRng(seed: number): Rng {
  let a = splitmix32(seed >>> 0);
  let b = splitmix32(a);
  let c = splitmix32(b);
  let d = 1;
  const next = (): number => {
    a >>>= 0; b >>>= 0; c >>>= 0; d >>>= 0;
    let t = (a + b) | 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) | 0;
    c = (c << 21) | (c >>> 11);
    d = (d + 1) | 0;
    t = (t + d) | 0;
    c = (c + t) | 0;
    return (t >>> 0) / 4294967296;
  };
  for (let i = 0; i < 12; i++) next();
  let spare: number | undefined;
  const normal = (): number => {
    if (spare !== undefined) { const s = spare; spare = undefined; return s; }
    let u = 0;
    let v = 0;
    let s = 0;
    do { u = 2 * next() - 1; v = 2 * next() - 1; s = u * u + v * v; } while (s >= 1 || s === 0);
    const m = Math.sqrt((-2 * Math.log(s)) / s);
    spare = v * m;
    return u * m;
  };
  const chiSquare = (k: number): number => {
    // Sum of squares for integer k; Marsaglia–Tsang gamma otherwise.
    if (Number.isInteger(k) && k <= 30) { let x = 0; for (let i = 0; i < k; i++) { const z = normal(); x += z * z; } return x; }
    const shape = k / 2;
    const dd = shape - 1 / 3;
    const cc = 1 / Math.sqrt(9 * dd);
    for (;;) {
      let x = 0; let v = 0;
      do { x = normal(); v = 1 + cc * x; } while (v <= 0);
      v = v * v * v;
      const u = next();
      if (u < 1 - 0.0331 * x ** 4 || Math.log(u) < 0.5 * x * x + dd * (1 - v + Math.log(v))) return 2 * dd * v;
    }
  };
  return {
    next,
    normal,
    studentT(nu: number): number {
      const z = normal();
      const t = z / Math.sqrt(chiSquare(nu) / nu);
      return t * Math.sqrt((nu - 2) / nu);
    },
    int: (n: number) => Math.floor(next() * n),
  };
}

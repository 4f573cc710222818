// Seeded inputs shared by every suite: the same seed gives the same numbers everywhere.

/** Deterministic uniform [lo, hi) float32 data (mulberry32). */
export function uniform(n, lo, hi, seed) {
  let s = seed >>> 0;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    out[i] = lo + (hi - lo) * (((t ^ (t >>> 14)) >>> 0) / 4294967296);
  }
  return out;
}

/** One-hot float32 labels (batch, classes) from a fixed seed. */
export function oneHotLabels(batch, classes, seed) {
  const u = uniform(batch, 0, 1, seed);
  const out = new Float32Array(batch * classes);
  for (let i = 0; i < batch; i++) out[i * classes + Math.min(classes - 1, Math.floor(u[i] * classes))] = 1;
  return out;
}

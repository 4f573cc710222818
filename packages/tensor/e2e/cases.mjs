// The products the browser test computes, shared by the page, its worker and Node: each case's
// inputs come from a small LCG, so every context builds the very same float32 operands.

/**
 * `size` floats in [-1, 1) from a 32-bit LCG (Numerical Recipes' constants) seeded with `seed`.
 * Each value is j / 2²³ − 1 for a 24-bit j, so it is exact in float32 and float64 alike.
 */
export function lcg(seed, size) {
  const out = new Float32Array(size);
  let s = seed >>> 0;
  for (let i = 0; i < size; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = (s >>> 8) / 2 ** 23 - 1;
  }
  return out;
}

const size = (shape) => shape.reduce((a, b) => a * b, 1);

/**
 * The cases. matmul: `a` (…, m, k) times `b` (…, k, n), `transposeA`: `a` is stored as (k, m) and
 * used through a transposed (strided) view. conv2d: `x` (N, C, H, W), `w` (O, C, kh, kw), groups 1.
 * `k` is the length of each output's dot product (for the tolerance).
 */
export const CASES = [
  { name: 'matmul (300, 520)·(520, 600)', op: 'matmul', a: [300, 520], b: [520, 600], k: 520, seed: 1 },
  // a product whose output outgrows the runtime's initial memory: the memory grows (an unshared one detaches its buffer)
  { name: 'matmul (800, 8)·(8, 1200)', op: 'matmul', a: [800, 8], b: [8, 1200], k: 8, seed: 8 },
  { name: 'matmul (4, 65, 257)·(4, 257, 17)', op: 'matmul', a: [4, 65, 257], b: [4, 257, 17], k: 257, seed: 2 },
  { name: 'matmul (3, 150, 130)·(130, 90)', op: 'matmul', a: [3, 150, 130], b: [130, 90], k: 130, seed: 3 },
  { name: 'matmul (130, 200)ᵀ·(130, 70)', op: 'matmul', a: [130, 200], b: [130, 70], k: 130, transposeA: true, seed: 4 },
  { name: 'conv2d x (8, 16, 32, 32) w (32, 16, 3, 3) padding 1', op: 'conv2d', x: [8, 16, 32, 32], w: [32, 16, 3, 3], padding: [1, 1], stride: [1, 1], dilation: [1, 1], k: 144, seed: 5 },
  { name: 'conv2d x (64, 1, 28, 28) w (6, 1, 5, 5)', op: 'conv2d', x: [64, 1, 28, 28], w: [6, 1, 5, 5], padding: [0, 0], stride: [1, 1], dilation: [1, 1], k: 25, seed: 6 },
  { name: 'conv2d x (3, 8, 23, 19) w (12, 8, 3, 3) stride (2, 1) pad (2, 1) dilation 2', op: 'conv2d', x: [3, 8, 23, 19], w: [12, 8, 3, 3], padding: [2, 1], stride: [2, 1], dilation: [2, 2], k: 72, seed: 7 },
];

/** The two operands of a case as flat float32 arrays with their shapes. */
export function operands(c) {
  const [sa, sb] = c.op === 'matmul' ? [c.a, c.b] : [c.x, c.w];
  return [
    { shape: sa, data: lcg(1000 * c.seed + 1, size(sa)) },
    { shape: sb, data: lcg(1000 * c.seed + 2, size(sb)) },
  ];
}

/** Computes case `c` with @ml/tensor (`T`) on `backend`; returns the float32 result, flat. */
export function runCase(T, backend, c) {
  const [p, q] = operands(c);
  return T.scope(() => {
    const a = T.tensor(p.data, { shape: p.shape, backend });
    const b = T.tensor(q.data, { shape: q.shape, backend });
    const y = c.op === 'matmul'
      ? T.matmul(c.transposeA ? a.transpose() : a, b)
      : T.conv2d(a, b, null, { padding: c.padding, stride: c.stride, dilation: c.dilation });
    return Float32Array.from(y.dataSync());
  });
}

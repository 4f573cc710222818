// Inputs and float64 references of the WebGPU suite (run.mjs): every library gets the same
// numbers, and every result is compared with what plain JavaScript computes in float64.
import { oneHotLabels, uniform } from '../common/random.mjs';
import { refAffine, refAffineBack } from '../common/reference.mjs';

export { oneHotLabels, uniform };
export { refConv2d, refSoftmax, transposeArray } from '../common/reference.mjs';

/**
 * Rows `rows` of a (n, k) @ (k, m) product in float64, as a dense (rows.length, m) array. Large
 * products are checked on a sample of rows: the full float64 product of two 4096² matrices would
 * take minutes in JavaScript.
 */
export function refMatmulRows(a, b, k, m, rows) {
  const out = new Float64Array(rows.length * m);
  rows.forEach((i, r) => {
    const o = r * m;
    for (let p = 0; p < k; p++) {
      const av = a[i * k + p];
      const bo = p * m;
      for (let j = 0; j < m; j++) out[o + j] += av * b[bo + j];
    }
  });
  return out;
}

// ---------------------------------------------------------------------------------------------
// The MLP training step: 784 → 256 (ReLU) → 10, mean softmax cross-entropy, one SGD update.
// ---------------------------------------------------------------------------------------------

export const MLP = { batch: 64, sizes: [784, 256, 10], lr: 0.1 };

/** Parameters (PyTorch's default init range ±1/√fan_in), inputs in [0, 1) and one-hot labels. */
export function makeMlpData() {
  const [D, H, C] = MLP.sizes;
  const B = MLP.batch;
  const a1 = 1 / Math.sqrt(D);
  const a2 = 1 / Math.sqrt(H);
  return {
    params: {
      w1: { shape: [D, H], data: uniform(D * H, -a1, a1, 301) },
      b1: { shape: [H], data: uniform(H, -a1, a1, 302) },
      w2: { shape: [H, C], data: uniform(H * C, -a2, a2, 303) },
      b2: { shape: [C], data: uniform(C, -a2, a2, 304) },
    },
    x: { shape: [B, D], data: uniform(B * D, 0, 1, 305) },
    y: { shape: [B, C], data: oneHotLabels(B, C, 306) },
  };
}

/** Loss, gradients and updated parameters of one SGD step, in float64. */
export function refMlpStep(d) {
  const [D, H, C] = MLP.sizes;
  const B = MLP.batch;
  const p = Object.fromEntries(Object.entries(d.params).map(([k, v]) => [k, v.data]));
  const y = d.y.data;
  const z1 = refAffine(d.x.data, p.w1, p.b1, B, D, H);
  const a1 = z1.map((v) => (v > 0 ? v : 0));
  const z2 = refAffine(a1, p.w2, p.b2, B, H, C);
  let loss = 0;
  const dz2 = new Float64Array(B * C);
  for (let i = 0; i < B; i++) {
    const o = i * C;
    let m = -Infinity;
    for (let j = 0; j < C; j++) m = Math.max(m, z2[o + j]);
    let s = 0;
    for (let j = 0; j < C; j++) s += Math.exp(z2[o + j] - m);
    const lse = m + Math.log(s);
    let ysum = 0;
    for (let j = 0; j < C; j++) { loss -= (y[o + j] * (z2[o + j] - lse)) / B; ysum += y[o + j]; }
    for (let j = 0; j < C; j++) dz2[o + j] = (Math.exp(z2[o + j] - lse) * ysum - y[o + j]) / B;
  }
  const g2 = refAffineBack(a1, p.w2, dz2, B, H, C, true);
  const dz1 = g2.dx.map((g, i) => (z1[i] > 0 ? g : 0));
  const g1 = refAffineBack(d.x.data, p.w1, dz1, B, D, H, false);
  const grads = { w1: g1.dw, b1: g1.db, w2: g2.dw, b2: g2.db };
  const next = Object.fromEntries(Object.entries(grads).map(([k, g]) => [k, Float64Array.from(p[k], (v, i) => v - MLP.lr * g[i])]));
  return { loss, grads, next };
}

/** Multiply-adds of one forward pass (a step is about 3 times this). */
export const MLP_MACS = MLP.batch * (MLP.sizes[0] * MLP.sizes[1] + MLP.sizes[1] * MLP.sizes[2]);

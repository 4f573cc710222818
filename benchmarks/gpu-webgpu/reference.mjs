// Inputs and float64 references of the WebGPU suite (run.mjs): every library gets the same
// numbers, and every result is compared with what plain JavaScript computes in float64.

/** Deterministic uniform [lo, hi) float32 data (mulberry32), the same generator as the other suites. */
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

export function refSoftmax(x, rows, cols) {
  const out = new Float64Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    const o = r * cols;
    let m = -Infinity;
    for (let j = 0; j < cols; j++) m = Math.max(m, x[o + j]);
    let s = 0;
    for (let j = 0; j < cols; j++) s += out[o + j] = Math.exp(x[o + j] - m);
    for (let j = 0; j < cols; j++) out[o + j] /= s;
  }
  return out;
}

/** NCHW × OIHW → NCHW, stride 1, symmetric zero padding `pad`. */
export function refConv2d(x, w, N, C, H, W, O, K, pad) {
  const Ho = H + 2 * pad - K + 1;
  const Wo = W + 2 * pad - K + 1;
  const out = new Float64Array(N * O * Ho * Wo);
  for (let n = 0; n < N; n++)
    for (let o = 0; o < O; o++) {
      const ob = (n * O + o) * Ho * Wo;
      for (let c = 0; c < C; c++) {
        const xb = (n * C + c) * H * W;
        const wb = (o * C + c) * K * K;
        for (let ki = 0; ki < K; ki++)
          for (let kj = 0; kj < K; kj++) {
            const wv = w[wb + ki * K + kj];
            for (let y = 0; y < Ho; y++) {
              const iy = y + ki - pad;
              if (iy < 0 || iy >= H) continue;
              for (let xx = 0; xx < Wo; xx++) {
                const ix = xx + kj - pad;
                if (ix < 0 || ix >= W) continue;
                out[ob + y * Wo + xx] += wv * x[xb + iy * W + ix];
              }
            }
          }
      }
    }
  return out;
}

/** Permutes a dense row-major array; `axes` as in transpose. */
export function transposeArray(x, shape, axes) {
  const rank = shape.length;
  const outShape = axes.map((a) => shape[a]);
  const inStrides = new Array(rank);
  let s = 1;
  for (let d = rank - 1; d >= 0; d--) { inStrides[d] = s; s *= shape[d]; }
  const strides = axes.map((a) => inStrides[a]);
  const out = new Float32Array(x.length);
  const idx = new Array(rank).fill(0);
  for (let i = 0; i < out.length; i++) {
    let off = 0;
    for (let d = 0; d < rank; d++) off += idx[d] * strides[d];
    out[i] = x[off];
    for (let d = rank - 1; d >= 0; d--) {
      if (++idx[d] < outShape[d]) break;
      idx[d] = 0;
    }
  }
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

/** out (B, M) = x (B, K) · w (K, M) + b (M). */
function affine(x, w, b, B, K, M) {
  const out = new Float64Array(B * M);
  for (let i = 0; i < B; i++) {
    const o = i * M;
    for (let j = 0; j < M; j++) out[o + j] = b[j];
    for (let k = 0; k < K; k++) {
      const xv = x[i * K + k];
      if (xv === 0) continue;
      const wo = k * M;
      for (let j = 0; j < M; j++) out[o + j] += xv * w[wo + j];
    }
  }
  return out;
}

/** Gradients of affine: dw (K, M), db (M), and dx (B, K) when asked. */
function affineBack(x, w, dz, B, K, M, wantDx) {
  const dw = new Float64Array(K * M);
  const db = new Float64Array(M);
  const dx = wantDx ? new Float64Array(B * K) : null;
  for (let i = 0; i < B; i++) {
    for (let j = 0; j < M; j++) db[j] += dz[i * M + j];
    for (let k = 0; k < K; k++) {
      const xv = x[i * K + k];
      const wo = k * M;
      let acc = 0;
      for (let j = 0; j < M; j++) {
        const g = dz[i * M + j];
        dw[wo + j] += xv * g;
        acc += g * w[wo + j];
      }
      if (dx) dx[i * K + k] = acc;
    }
  }
  return { dw, db, dx };
}

/** Loss, gradients and updated parameters of one SGD step, in float64. */
export function refMlpStep(d) {
  const [D, H, C] = MLP.sizes;
  const B = MLP.batch;
  const p = Object.fromEntries(Object.entries(d.params).map(([k, v]) => [k, v.data]));
  const y = d.y.data;
  const z1 = affine(d.x.data, p.w1, p.b1, B, D, H);
  const a1 = z1.map((v) => (v > 0 ? v : 0));
  const z2 = affine(a1, p.w2, p.b2, B, H, C);
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
  const g2 = affineBack(a1, p.w2, dz2, B, H, C, true);
  const dz1 = g2.dx.map((g, i) => (z1[i] > 0 ? g : 0));
  const g1 = affineBack(d.x.data, p.w1, dz1, B, D, H, false);
  const grads = { w1: g1.dw, b1: g1.db, w2: g2.dw, b2: g2.db };
  const next = Object.fromEntries(Object.entries(grads).map(([k, g]) => [k, Float64Array.from(p[k], (v, i) => v - MLP.lr * g[i])]));
  return { loss, grads, next };
}

/** Multiply-adds of one forward pass (a step is about 3 times this). */
export const MLP_MACS = MLP.batch * (MLP.sizes[0] * MLP.sizes[1] + MLP.sizes[1] * MLP.sizes[2]);

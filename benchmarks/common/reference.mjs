// float64 references and layout helpers shared by the suites: results are checked against what
// plain JavaScript computes.

/** Softmax over the last axis of a (rows, cols) array. */
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

/** out (B, M) = x (B, K) · w (K, M) + b (M). */
export function refAffine(x, w, b, B, K, M) {
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

/** Gradients of refAffine: dw (K, M), db (M), and dx (B, K) when asked. */
export function refAffineBack(x, w, dz, B, K, M, wantDx) {
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


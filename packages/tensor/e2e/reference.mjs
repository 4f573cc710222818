// Float64 references for the cases of cases.mjs, written as the textbook loops.
import { operands } from './cases.mjs';

/** C[b, i, j] = Σ_p A[b, i, p] · B[b, p, j], with b broadcast and A optionally stored transposed. */
function matmulRef(c, A, B) {
  const [m, k] = c.transposeA ? [A.shape.at(-1), A.shape.at(-2)] : A.shape.slice(-2);
  const n = B.shape.at(-1);
  const batches = Math.max(A.shape.length > 2 ? A.shape[0] : 1, B.shape.length > 2 ? B.shape[0] : 1);
  const aStride = A.shape.length > 2 ? m * k : 0;
  const bStride = B.shape.length > 2 ? k * n : 0;
  const a = (bt, i, p) => (c.transposeA ? A.data[p * m + i] : A.data[bt * aStride + i * k + p]);
  const out = new Float64Array(batches * m * n);
  for (let bt = 0; bt < batches; bt++) {
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < n; j++) {
        let s = 0;
        for (let p = 0; p < k; p++) s += a(bt, i, p) * B.data[bt * bStride + p * n + j];
        out[(bt * m + i) * n + j] = s;
      }
    }
  }
  return out;
}

/** out[b, o, y, x] = Σ_{ch, i, j} w[o, ch, i, j] · x[b, ch, y·sh − ph + i·dh, x·sw − pw + j·dw] (zero outside). */
function conv2dRef(c, X, W) {
  const [nb, ch, h, wd] = X.shape;
  const [o, , kh, kw] = W.shape;
  const [sh, sw] = c.stride;
  const [ph, pw] = c.padding;
  const [dh, dw] = c.dilation;
  const oh = Math.floor((h + 2 * ph - dh * (kh - 1) - 1) / sh) + 1;
  const ow = Math.floor((wd + 2 * pw - dw * (kw - 1) - 1) / sw) + 1;
  const out = new Float64Array(nb * o * oh * ow);
  for (let b = 0; b < nb; b++) {
    for (let oc = 0; oc < o; oc++) {
      for (let y = 0; y < oh; y++) {
        for (let x = 0; x < ow; x++) {
          let s = 0;
          for (let ic = 0; ic < ch; ic++) {
            for (let i = 0; i < kh; i++) {
              const yy = y * sh - ph + i * dh;
              if (yy < 0 || yy >= h) continue;
              for (let j = 0; j < kw; j++) {
                const xx = x * sw - pw + j * dw;
                if (xx < 0 || xx >= wd) continue;
                s += W.data[((oc * ch + ic) * kh + i) * kw + j] * X.data[((b * ch + ic) * h + yy) * wd + xx];
              }
            }
          }
          out[((b * o + oc) * oh + y) * ow + x] = s;
        }
      }
    }
  }
  return out;
}

/** The float64 result of case `c`, flat, from the same operands the browser used. */
export function reference(c) {
  const [p, q] = operands(c);
  return c.op === 'matmul' ? matmulRef(c, p, q) : conv2dRef(c, p, q);
}

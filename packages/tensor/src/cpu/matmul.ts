/**
 * CPU matmul: C = A·B for every batch item, with A (M, K) and B (K, N) read through their strides.
 *
 * The loop is the classic GEMM structure: B is packed once per batch item into panels of 4
 * columns, A into panels of 4 rows, and a 4×4 block of C is accumulated in 16 local variables
 * over the whole K loop (double precision), then stored once.
 */
import type { TypedArray } from '../dtype.js';
import { sizeOf } from '../shape.js';
import type { CpuKernel } from './backend.js';

const R = 4; // rows of A per panel
const C = 4; // columns of B per panel

/** Packs B[k, j0..j0+3] for all k into `dst[k*4 + c]`, zero-padding past N. */
function packB(b: TypedArray, off: number, sk: number, sn: number, k: number, n: number, dst: Float64Array): void {
  const panels = Math.ceil(n / C);
  for (let p = 0; p < panels; p++) {
    const j0 = p * C;
    const base = p * k * C;
    for (let kk = 0; kk < k; kk++) {
      const row = off + kk * sk;
      for (let c = 0; c < C; c++) {
        const j = j0 + c;
        dst[base + kk * C + c] = j < n ? b[row + j * sn] : 0;
      }
    }
  }
}

/** Packs A[i0..i0+3, k] for all k into `dst[k*4 + r]`, zero-padding past M. */
function packA(a: TypedArray, off: number, sm: number, sk: number, i0: number, m: number, k: number, dst: Float64Array): void {
  for (let r = 0; r < R; r++) {
    const i = i0 + r;
    if (i < m) {
      const row = off + i * sm;
      for (let kk = 0; kk < k; kk++) dst[kk * R + r] = a[row + kk * sk];
    } else {
      for (let kk = 0; kk < k; kk++) dst[kk * R + r] = 0;
    }
  }
}

/** C[i0..i0+3, j0..j0+3] = Apanel · Bpanel over K, written into `out` (row-major, N columns). */
function microKernel(ap: Float64Array, bp: Float64Array, bBase: number, k: number, out: TypedArray, oBase: number, n: number, rows: number, cols: number): void {
  let c00 = 0, c01 = 0, c02 = 0, c03 = 0;
  let c10 = 0, c11 = 0, c12 = 0, c13 = 0;
  let c20 = 0, c21 = 0, c22 = 0, c23 = 0;
  let c30 = 0, c31 = 0, c32 = 0, c33 = 0;
  for (let kk = 0, ai = 0, bi = bBase; kk < k; kk++, ai += 4, bi += 4) {
    const a0 = ap[ai], a1 = ap[ai + 1], a2 = ap[ai + 2], a3 = ap[ai + 3];
    const b0 = bp[bi], b1 = bp[bi + 1], b2 = bp[bi + 2], b3 = bp[bi + 3];
    c00 += a0 * b0; c01 += a0 * b1; c02 += a0 * b2; c03 += a0 * b3;
    c10 += a1 * b0; c11 += a1 * b1; c12 += a1 * b2; c13 += a1 * b3;
    c20 += a2 * b0; c21 += a2 * b1; c22 += a2 * b2; c23 += a2 * b3;
    c30 += a3 * b0; c31 += a3 * b1; c32 += a3 * b2; c33 += a3 * b3;
  }
  if (rows === 4 && cols === 4) {
    out[oBase] = c00; out[oBase + 1] = c01; out[oBase + 2] = c02; out[oBase + 3] = c03;
    oBase += n;
    out[oBase] = c10; out[oBase + 1] = c11; out[oBase + 2] = c12; out[oBase + 3] = c13;
    oBase += n;
    out[oBase] = c20; out[oBase + 1] = c21; out[oBase + 2] = c22; out[oBase + 3] = c23;
    oBase += n;
    out[oBase] = c30; out[oBase + 1] = c31; out[oBase + 2] = c32; out[oBase + 3] = c33;
    return;
  }
  const tile = [c00, c01, c02, c03, c10, c11, c12, c13, c20, c21, c22, c23, c30, c31, c32, c33];
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[oBase + r * n + c] = tile[r * 4 + c];
}

export const matmulKernel: CpuKernel = ([a, b], [out]) => {
  const rank = a.shape.length;
  const [m, k] = a.shape.slice(-2);
  const n = b.shape[rank - 1];
  const batchShape = a.shape.slice(0, -2);
  const batches = sizeOf(batchShape);
  const o = out.storage;
  const rowPanels = Math.ceil(m / R);
  const ap = new Float64Array(rowPanels * k * R);
  const bp = new Float64Array(Math.ceil(n / C) * k * C);
  const idx = new Array<number>(batchShape.length).fill(0);
  // a broadcast operand (stride 0 over the batch, e.g. conv weights) is packed only once
  let packedA = -1;
  let packedB = -1;
  for (let bt = 0; bt < batches; bt++) {
    let aOff = a.offset;
    let bOff = b.offset;
    for (let d = 0; d < batchShape.length; d++) {
      aOff += idx[d] * a.strides[d];
      bOff += idx[d] * b.strides[d];
    }
    if (bOff !== packedB) {
      packB(b.storage, bOff, b.strides[rank - 2], b.strides[rank - 1], k, n, bp);
      packedB = bOff;
    }
    if (aOff !== packedA) {
      for (let p = 0; p < rowPanels; p++) {
        packA(a.storage, aOff, a.strides[rank - 2], a.strides[rank - 1], p * R, m, k, ap.subarray(p * k * R, (p + 1) * k * R));
      }
      packedA = aOff;
    }
    const oOff = bt * m * n;
    for (let i0 = 0, p = 0; i0 < m; i0 += R, p++) {
      const panel = ap.subarray(p * k * R, (p + 1) * k * R);
      const rows = Math.min(R, m - i0);
      for (let j0 = 0, q = 0; j0 < n; j0 += C, q++) {
        microKernel(panel, bp, q * k * C, k, o, oOff + i0 * n + j0, n, rows, Math.min(C, n - j0));
      }
    }
    for (let d = batchShape.length - 1; d >= 0; d--) {
      if (++idx[d] < batchShape[d]) break;
      idx[d] = 0;
    }
  }
};

/** Helpers for CPU kernels that read strided views. */
import type { View } from '../backend.js';
import type { TypedArray } from '../dtype.js';
import { allocArray } from '../dtype.js';
import { isContiguous, sizeOf } from '../shape.js';

export type CpuView = View<TypedArray>;

/** Whether a view covers a contiguous run of its storage, in row-major order. */
export function isDense(v: CpuView): boolean {
  return isContiguous(v.shape, v.strides);
}

/**
 * Storage offsets of every element of `v`, in row-major order of its shape. Uses an odometer over
 * the outer dims and a plain loop over the innermost one.
 */
export function stridedOffsets(v: CpuView): Int32Array {
  const n = sizeOf(v.shape);
  const out = new Int32Array(n);
  if (n === 0) return out;
  const rank = v.shape.length;
  if (rank === 0) {
    out[0] = v.offset;
    return out;
  }
  const inner = v.shape[rank - 1];
  const innerStride = v.strides[rank - 1];
  const idx = new Array<number>(rank).fill(0);
  let base = v.offset;
  for (let i = 0; i < n; i += inner) {
    for (let j = 0, o = base; j < inner; j++, o += innerStride) out[i + j] = o;
    // advance the outer dims like an odometer
    for (let d = rank - 2; d >= 0; d--) {
      idx[d]++;
      base += v.strides[d];
      if (idx[d] < v.shape[d]) break;
      base -= v.strides[d] * v.shape[d];
      idx[d] = 0;
    }
  }
  return out;
}

/**
 * The elements of `v` as a dense array in row-major order. Returns the storage itself (no copy)
 * when the view already is the whole storage, or a subarray when it is a dense window.
 */
export function dense(v: CpuView): TypedArray {
  const n = sizeOf(v.shape);
  if (isDense(v)) return v.storage.subarray(v.offset, v.offset + n) as TypedArray;
  const out = allocArray(v.dtype, n);
  copyStrided(v, out);
  return out;
}

/** Copies the elements of `v` into `out` (length = size of v) in row-major order. */
export function copyStrided(v: CpuView, out: TypedArray): void {
  const src = v.storage;
  const n = out.length;
  if (n === 0) return;
  const rank = v.shape.length;
  if (rank === 0) {
    out[0] = src[v.offset];
    return;
  }
  const inner = v.shape[rank - 1];
  const innerStride = v.strides[rank - 1];
  const idx = new Array<number>(rank).fill(0);
  let base = v.offset;
  for (let i = 0; i < n; i += inner) {
    if (innerStride === 1) {
      for (let j = 0; j < inner; j++) out[i + j] = src[base + j];
    } else {
      for (let j = 0, o = base; j < inner; j++, o += innerStride) out[i + j] = src[o];
    }
    for (let d = rank - 2; d >= 0; d--) {
      idx[d]++;
      base += v.strides[d];
      if (idx[d] < v.shape[d]) break;
      base -= v.strides[d] * v.shape[d];
      idx[d] = 0;
    }
  }
}

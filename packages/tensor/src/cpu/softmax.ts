/**
 * CPU kernels of softmax and log-softmax along one axis, fused: per row, one pass for the max,
 * one for Σ exp(x − max), one to write the result (instead of five ops and four temporaries).
 */
import type { TypedArray } from '../dtype.js';
import { sizeOf } from '../shape.js';
import type { CpuKernel } from './backend.js';
import { dense } from './strided.js';

/**
 * Rows of length n along `axis` of a dense (outer, n, inner) array, each at stride `inner`:
 * softmax: y = exp(x − m) / Σ exp(x − m) with m the row's max (NaN if the row has one);
 * logSoftmax: y = (x − m') − log Σ exp(x − m') with m' = m where finite, else 0 (so a row of −∞
 * gives NaN, as PyTorch does, rather than dividing ∞ by ∞ silently).
 */
function softmaxRows(x: TypedArray, y: TypedArray, outer: number, n: number, inner: number, log: boolean): void {
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < inner; i++) {
      const base = o * n * inner + i;
      const end = base + n * inner;
      let m = -Infinity;
      for (let k = base; k < end; k += inner) {
        const v = x[k];
        if (v !== v) {
          m = NaN;
          break;
        }
        if (v > m) m = v;
      }
      if (log) {
        const shift = Number.isFinite(m) ? m : 0;
        let s = 0;
        for (let k = base; k < end; k += inner) s += Math.exp(x[k] - shift);
        const ls = Math.log(s);
        for (let k = base; k < end; k += inner) y[k] = x[k] - shift - ls;
      } else {
        let s = 0;
        for (let k = base; k < end; k += inner) {
          const e = Math.exp(x[k] - m);
          y[k] = e;
          s += e;
        }
        for (let k = base; k < end; k += inner) y[k] /= s;
      }
    }
  }
}

function softmaxKernel(log: boolean): CpuKernel {
  return ([x], [out], { axis }: { axis: number }) => {
    const n = x.shape[axis];
    const outer = sizeOf(x.shape.slice(0, axis));
    const inner = sizeOf(x.shape.slice(axis + 1));
    softmaxRows(dense(x), out.storage, outer, n, inner, log);
  };
}

export const SOFTMAX_KERNELS: Record<string, CpuKernel> = {
  softmax: softmaxKernel(false),
  logSoftmax: softmaxKernel(true),
};

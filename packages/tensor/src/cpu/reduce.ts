/** CPU kernels for reductions, argmax/argmin, cumsum and sort. */
import type { TypedArray } from '../dtype.js';
import { allocArray } from '../dtype.js';
import { sizeOf } from '../shape.js';
import type { CpuKernel } from './backend.js';
import type { CpuView } from './strided.js';
import { copyStrided, dense, isDense } from './strided.js';

/**
 * The elements of `x` with the dims in `axes` moved last, as a dense array, plus the size of the
 * kept block and of the reduced block. No copy when the axes already are a dense suffix.
 */
function moveAxesLast(x: CpuView, axes: readonly number[]): { data: TypedArray; outer: number; inner: number } {
  const rank = x.shape.length;
  const kept = [...Array(rank).keys()].filter((d) => !axes.includes(d));
  const order = [...kept, ...axes];
  const outer = sizeOf(kept.map((d) => x.shape[d]));
  const inner = sizeOf(axes.map((d) => x.shape[d]));
  const isSuffix = order.every((d, i) => d === i);
  if (isSuffix && isDense(x)) return { data: dense(x), outer, inner };
  const permuted: CpuView = {
    storage: x.storage,
    dtype: x.dtype,
    offset: x.offset,
    shape: order.map((d) => x.shape[d]),
    strides: order.map((d) => x.strides[d]),
  };
  const data = allocArray(x.dtype, outer * inner);
  copyStrided(permuted, data);
  return { data, outer, inner };
}

type Reducer = (data: TypedArray, start: number, n: number) => number;

const REDUCERS: Record<string, Reducer> = {
  sum: (d, s, n) => {
    let acc = 0;
    for (let i = s; i < s + n; i++) acc += d[i];
    return acc;
  },
  prod: (d, s, n) => {
    let acc = 1;
    for (let i = s; i < s + n; i++) acc *= d[i];
    return acc;
  },
  max: (d, s, n) => {
    let m = -Infinity;
    for (let i = s; i < s + n; i++) {
      const v = d[i];
      if (v !== v) return NaN;
      if (v > m) m = v;
    }
    return m;
  },
  min: (d, s, n) => {
    let m = Infinity;
    for (let i = s; i < s + n; i++) {
      const v = d[i];
      if (v !== v) return NaN;
      if (v < m) m = v;
    }
    return m;
  },
};

/**
 * Reduces the middle dim of a dense (outer, r, inner) array with inner > 1 by combining whole
 * rows, which reads memory in order (sum over a batch, max over a pooling window...).
 */
function reduceMiddle(op: string, data: TypedArray, outer: number, r: number, inner: number, out: TypedArray): void {
  const acc = new Float64Array(inner);
  for (let o = 0; o < outer; o++) {
    const base = o * r * inner;
    if (op === 'sum') acc.fill(0);
    else if (op === 'prod') acc.fill(1);
    else for (let c = 0; c < inner; c++) acc[c] = data[base + c];
    for (let j = 0; j < r; j++) {
      const row = base + j * inner;
      if (op === 'sum') for (let c = 0; c < inner; c++) acc[c] += data[row + c];
      else if (op === 'prod') for (let c = 0; c < inner; c++) acc[c] *= data[row + c];
      else if (op === 'max') {
        for (let c = 0; c < inner; c++) {
          const v = data[row + c];
          if (v > acc[c] || v !== v) acc[c] = v; // once NaN, no comparison replaces it
        }
      } else {
        for (let c = 0; c < inner; c++) {
          const v = data[row + c];
          if (v < acc[c] || v !== v) acc[c] = v;
        }
      }
    }
    out.set(acc, o * inner);
  }
}

function reduceKernel(op: string): CpuKernel {
  const reducer = REDUCERS[op];
  return ([x], [out], { axes }: { axes: number[] }) => {
    const o = out.storage;
    const run = axes.length > 0 && axes.every((a, i) => a === axes[0] + i);
    const inner = run ? sizeOf(x.shape.slice(axes[axes.length - 1] + 1)) : 1;
    if (run && inner > 1 && isDense(x)) {
      const r = sizeOf(axes.map((a) => x.shape[a]));
      reduceMiddle(op, dense(x), sizeOf(x.shape.slice(0, axes[0])), r, inner, o);
      return;
    }
    const { data, outer, inner: n } = moveAxesLast(x, axes);
    for (let i = 0; i < outer; i++) o[i] = reducer(data, i * n, n);
  };
}

function argKernel(isMax: boolean): CpuKernel {
  return ([x], [out], { axis }: { axis: number }) => {
    const { data, outer, inner } = moveAxesLast(x, [axis]);
    const o = out.storage;
    for (let i = 0; i < outer; i++) {
      const s = i * inner;
      let best = 0;
      let bv = data[s];
      if (bv === bv) {
        for (let j = 1; j < inner; j++) {
          const v = data[s + j];
          if (v !== v) {
            best = j; // the first NaN wins, as in NumPy
            break;
          }
          if (isMax ? v > bv : v < bv) {
            bv = v;
            best = j;
          }
        }
      }
      o[i] = best;
    }
  };
}

/** Offsets for writing rows of length `n` along `axis` into a contiguous array of `shape`. */
function rowLayout(shape: readonly number[], axis: number): { outer: number; n: number; step: number } {
  const step = sizeOf(shape.slice(axis + 1));
  return { outer: sizeOf(shape) / Math.max(1, shape[axis]), n: shape[axis], step };
}

/** Start of row r (in the order of moveAxesLast) inside a contiguous array. */
function rowStart(r: number, step: number, n: number): number {
  return Math.floor(r / step) * step * n + (r % step);
}

const cumsumKernel: CpuKernel = ([x], [out], { axis }: { axis: number }) => {
  const { data } = moveAxesLast(x, [axis]);
  const { outer, n, step } = rowLayout(x.shape, axis);
  const o = out.storage;
  for (let r = 0; r < outer; r++) {
    const base = rowStart(r, step, n);
    let acc = 0;
    for (let j = 0; j < n; j++) {
      acc += data[r * n + j];
      o[base + j * step] = acc;
    }
  }
};

const sortKernel: CpuKernel = ([x], [values, indices], { axis, descending }: { axis: number; descending: boolean }) => {
  const { data } = moveAxesLast(x, [axis]);
  const { outer, n, step } = rowLayout(x.shape, axis);
  const order = new Array<number>(n);
  const v = values.storage;
  const ix = indices.storage;
  for (let r = 0; r < outer; r++) {
    const s = r * n;
    for (let j = 0; j < n; j++) order[j] = j;
    // NaN sorts as the largest value; ties keep their original order (stable)
    const key = (j: number) => data[s + j];
    order.sort((p, q) => {
      const a = key(p);
      const b = key(q);
      const an = a !== a;
      const bn = b !== b;
      let c = an || bn ? (an ? 1 : 0) - (bn ? 1 : 0) : a < b ? -1 : a > b ? 1 : 0;
      if (descending) c = -c;
      return c !== 0 ? c : p - q;
    });
    const base = rowStart(r, step, n);
    for (let j = 0; j < n; j++) {
      v[base + j * step] = data[s + order[j]];
      ix[base + j * step] = order[j];
    }
  }
};

export const REDUCE_KERNELS: Record<string, CpuKernel> = {
  sum: reduceKernel('sum'),
  prod: reduceKernel('prod'),
  max: reduceKernel('max'),
  min: reduceKernel('min'),
  argmax: argKernel(true),
  argmin: argKernel(false),
  cumsum: cumsumKernel,
  sort: sortKernel,
};

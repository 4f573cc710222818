/** Reductions over any set of axes, scans and sorting. */
import type { DType } from '../dtype.js';
import { arithmeticType, floatType } from '../dtype.js';
import { apply, apply1, assertAlive } from '../engine.js';
import { fail, fmt } from '../errors.js';
import { normalizeAxes, normalizeAxis, sizeOf } from '../shape.js';
import type { Tensor } from '../tensor.js';
import { add, cast, clone, div, eq, exp, gt, isFinite, log, mul, sub, where } from './elementwise.js';
import { reshape, sliceView } from './shape.js';

/** Axes to reduce: one, several, or all (undefined). Negative axes count from the end. */
export type Axis = number | readonly number[] | undefined;

function keptShape(shape: readonly number[], axes: readonly number[]): number[] {
  return shape.map((d, i) => (axes.includes(i) ? 1 : d));
}

/** Runs a reduction primitive over `axis`, casting first and restoring dims if `keepdims`. */
function reduce(op: 'sum' | 'prod' | 'max' | 'min', x: Tensor, axis: Axis, keepdims: boolean, dtype: DType): Tensor {
  assertAlive(op, x);
  const axes = normalizeAxes(op, axis as number | number[] | undefined, x.rank);
  if ((op === 'max' || op === 'min') && axes.some((a) => x.shape[a] === 0)) {
    fail(op, `cannot reduce over a zero-size dim (shape ${fmt(x.shape)}, axes ${fmt(axes)}): ${op} has no identity`);
  }
  const input = cast(x, dtype);
  try {
    const out = apply1(op, [input], { axes });
    if (!keepdims) return out;
    try {
      return reshape(out, keptShape(x.shape, axes));
    } finally {
      out.dispose();
    }
  } finally {
    input.dispose();
  }
}

/** Σ over `axis` (all by default). bool and integer inputs sum in int32. */
export function sum(x: Tensor, axis?: Axis, keepdims = false): Tensor {
  return reduce('sum', x, axis, keepdims, arithmeticType(x.dtype === 'uint8' ? 'int32' : x.dtype));
}

/** Π over `axis`. bool and integer inputs multiply in int32. */
export function prod(x: Tensor, axis?: Axis, keepdims = false): Tensor {
  return reduce('prod', x, axis, keepdims, arithmeticType(x.dtype === 'uint8' ? 'int32' : x.dtype));
}

/** Maximum over `axis` (NaN propagates). A zero-size reduced dim is an error. */
export function max(x: Tensor, axis?: Axis, keepdims = false): Tensor {
  return reduce('max', x, axis, keepdims, x.dtype);
}

/** Minimum over `axis` (NaN propagates). */
export function min(x: Tensor, axis?: Axis, keepdims = false): Tensor {
  return reduce('min', x, axis, keepdims, x.dtype);
}

function countOf(op: string, x: Tensor, axis: Axis): number {
  assertAlive(op, x);
  const axes = normalizeAxes(op, axis as number | number[] | undefined, x.rank);
  return sizeOf(axes.map((a) => x.shape[a]));
}

/** Arithmetic mean over `axis`; integer inputs give float32. Empty → NaN. */
export function mean(x: Tensor, axis?: Axis, keepdims = false): Tensor {
  const n = countOf('mean', x, axis);
  const s = reduce('sum', x, axis, keepdims, floatType(x.dtype));
  try {
    return div(s, n);
  } finally {
    s.dispose();
  }
}

/**
 * Variance Σ(x − mean)² / (N − correction); `correction = 1` (default, PyTorch's) is the unbiased
 * estimate, 0 the population variance (NumPy's default). N − correction ≤ 0 gives NaN.
 */
export function variance(x: Tensor, axis?: Axis, keepdims = false, correction = 1): Tensor {
  const n = countOf('var', x, axis);
  const m = mean(x, axis, true);
  const d = sub(x, m);
  const sq = mul(d, d);
  const s = reduce('sum', sq, axis, keepdims, floatType(x.dtype));
  try {
    return div(s, n - correction > 0 ? n - correction : NaN);
  } finally {
    for (const t of [m, d, sq, s]) t.dispose();
  }
}

/** Standard deviation: √variance (same `correction` convention). */
export function std(x: Tensor, axis?: Axis, keepdims = false, correction = 1): Tensor {
  countOf('std', x, axis); // validates here so that errors name std
  const v = variance(x, axis, keepdims, correction);
  try {
    return v.sqrt();
  } finally {
    v.dispose();
  }
}

/**
 * log Σ exp(x) over `axis`, computed stably as m + log Σ exp(x − m) with m = max(x).
 * Rows that are all −∞ give −∞.
 */
export function logsumexp(x: Tensor, axis?: Axis, keepdims = false): Tensor {
  assertAlive('logsumexp', x);
  const axes = normalizeAxes('logsumexp', axis as number | number[] | undefined, x.rank);
  const xf = cast(x, floatType(x.dtype));
  const t: Tensor[] = [xf];
  const k = (v: Tensor) => (t.push(v), v);
  try {
    const mRaw = k(max(xf, axes, true));
    const m = k(where(k(isFinite(mRaw)), mRaw, 0)); // keeps −∞ rows from producing NaN
    const s = k(sum(k(exp(k(sub(xf, m)))), axes, true));
    const out = k(add(k(log(s)), m));
    return keepdims ? clone(out) : reshape(out, x.shape.filter((_, i) => !axes.includes(i)));
  } finally {
    for (const v of t) v.dispose();
  }
}

function boolCount(op: 'all' | 'any', x: Tensor, axis: Axis, keepdims: boolean, negate: boolean): Tensor {
  assertAlive(op, x);
  normalizeAxes(op, axis as number | number[] | undefined, x.rank); // validates before any temporaries
  const b = x.dtype === 'bool' ? x : cast(x, 'bool');
  const target = negate ? b.logicalNot() : b;
  const n = sum(target, axis, keepdims);
  try {
    return negate ? eq(n, 0) : gt(n, 0);
  } finally {
    n.dispose();
    if (target !== x) target.dispose();
    if (b !== x && b !== target) b.dispose();
  }
}

/** Whether every element along `axis` is true (non-zero). Empty → true. */
export function all(x: Tensor, axis?: Axis, keepdims = false): Tensor {
  return boolCount('all', x, axis, keepdims, true);
}

/** Whether any element along `axis` is true (non-zero). Empty → false. */
export function any(x: Tensor, axis?: Axis, keepdims = false): Tensor {
  return boolCount('any', x, axis, keepdims, false);
}

function argReduce(op: 'argmax' | 'argmin', x: Tensor, axis: number | undefined, keepdims: boolean): Tensor {
  assertAlive(op, x);
  if (axis === undefined) {
    const flat = reshape(x, [x.size]);
    try {
      const out = argReduce(op, flat, 0, false);
      if (!keepdims) return out;
      try {
        return reshape(out, x.shape.map(() => 1));
      } finally {
        out.dispose();
      }
    } finally {
      flat.dispose();
    }
  }
  const ax = normalizeAxis(op, axis, x.rank);
  if (x.shape[ax] === 0) fail(op, `cannot reduce over a zero-size dim (shape ${fmt(x.shape)}, axis ${ax})`);
  const out = apply1(op, [x], { axis: ax });
  if (!keepdims) return out;
  try {
    return reshape(out, keptShape(x.shape, [ax]));
  } finally {
    out.dispose();
  }
}

/** Index (int32) of the maximum along `axis` (of the flattened tensor if omitted); first on ties. */
export function argmax(x: Tensor, axis?: number, keepdims = false): Tensor {
  return argReduce('argmax', x, axis, keepdims);
}

/** Index (int32) of the minimum along `axis`; first on ties. */
export function argmin(x: Tensor, axis?: number, keepdims = false): Tensor {
  return argReduce('argmin', x, axis, keepdims);
}

/** Running sum along `axis`: out[i] = Σ_{j ≤ i} x[j]. Integer and bool inputs sum in int32. */
export function cumsum(x: Tensor, axis: number): Tensor {
  const ax = normalizeAxis('cumsum', axis, x.rank);
  assertAlive('cumsum', x);
  const input = cast(x, arithmeticType(x.dtype === 'uint8' ? 'int32' : x.dtype));
  try {
    return apply1('cumsum', [input], { axis: ax });
  } finally {
    input.dispose();
  }
}

function sortBoth(op: string, x: Tensor, axis: number, descending: boolean): [Tensor, Tensor] {
  assertAlive(op, x);
  if (x.rank === 0) fail(op, 'cannot sort a 0-d tensor');
  const ax = normalizeAxis(op, axis, x.rank);
  const [values, indices] = apply('sort', [x], { axis: ax, descending });
  return [values, indices];
}

/** Sorted values along `axis` (stable; NaN sorts as the largest value). */
export function sort(x: Tensor, axis = -1, descending = false): Tensor {
  const [v, i] = sortBoth('sort', x, axis, descending);
  i.dispose();
  return v;
}

/** The int32 indices that sort `x` along `axis` (stable). */
export function argsort(x: Tensor, axis = -1, descending = false): Tensor {
  const [v, i] = sortBoth('argsort', x, axis, descending);
  v.dispose();
  return i;
}

/** The `k` largest (or smallest) values along `axis` and their indices, in sorted order. */
export function topk(x: Tensor, k: number, axis = -1, largest = true): { values: Tensor; indices: Tensor } {
  const op = 'topk';
  if (x.rank === 0) fail(op, 'cannot take topk of a 0-d tensor');
  const ax = normalizeAxis(op, axis, x.rank);
  if (!Number.isInteger(k) || k < 0 || k > x.shape[ax]) fail(op, `k = ${k} is out of range for dim ${ax} of size ${x.shape[ax]}`);
  const [v, i] = sortBoth(op, x, ax, largest);
  const starts = x.shape.map(() => 0);
  const sizes = x.shape.map((d, j) => (j === ax ? k : d));
  const steps = x.shape.map(() => 1);
  try {
    return { values: sliceView(v, starts, sizes, steps), indices: sliceView(i, starts, sizes, steps) };
  } finally {
    v.dispose();
    i.dispose();
  }
}

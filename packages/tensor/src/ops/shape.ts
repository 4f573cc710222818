/**
 * Shapes and views. View ops (reshape, permute, expand, slice, squeeze...) return a new tensor over
 * the same buffer without copying; `contiguous()` copies when a kernel or a reader needs it.
 */
import { promoteTypes } from '../dtype.js';
import { apply1, assertAlive, makeView } from '../engine.js';
import { fail, fmt } from '../errors.js';
import { checkShape, contiguousStrides, isContiguous, normalizeAxes, normalizeAxis, sizeOf } from '../shape.js';
import type { Tensor } from '../tensor.js';

/** @internal A new tensor object over the same elements (for no-op casts and `contiguous`). */
export function makeIdentityView(_op: string, x: Tensor): Tensor {
  return makeView('reshape', x, { shape: x.shape }, x.shape, x.strides, x.offset);
}

/**
 * Strides that let `newShape` view the same elements as (`shape`, `strides`) in row-major order,
 * or null when a copy is needed (NumPy's no-copy reshape rule).
 */
function viewStrides(shape: readonly number[], strides: readonly number[], newShape: readonly number[]): number[] | null {
  if (sizeOf(shape) === 0 || isContiguous(shape, strides)) return contiguousStrides(newShape);
  const dims: number[] = [];
  const strd: number[] = [];
  shape.forEach((d, i) => {
    if (d !== 1) {
      dims.push(d);
      strd.push(strides[i]);
    }
  });
  const out = new Array<number>(newShape.length).fill(0);
  let oi = 0, oj = 1, ni = 0, nj = 1;
  while (ni < newShape.length && oi < dims.length) {
    let np = newShape[ni];
    let op = dims[oi];
    while (np !== op) {
      if (np < op) np *= newShape[nj++];
      else op *= dims[oj++];
    }
    // the old dims oi..oj-1 must be one contiguous run to be merged or split
    for (let k = oi; k < oj - 1; k++) if (strd[k] !== dims[k + 1] * strd[k + 1]) return null;
    out[nj - 1] = strd[oj - 1];
    for (let k = nj - 1; k > ni; k--) out[k - 1] = out[k] * newShape[k];
    ni = nj++;
    oi = oj++;
  }
  const last = ni >= 1 ? out[ni - 1] : 1;
  for (let k = ni; k < newShape.length; k++) out[k] = last;
  return out;
}

/**
 * Gives `x` a new shape with the same number of elements; one dim may be −1 (inferred).
 * A view when the layout allows (always for contiguous tensors), a copy otherwise.
 * @example `arange(6).reshape([2, -1])` → shape (2, 3)
 */
export function reshape(x: Tensor, shape: readonly number[]): Tensor {
  const op = 'reshape';
  const target = [...shape];
  const infer = target.indexOf(-1);
  if (infer !== target.lastIndexOf(-1)) fail(op, `only one dim can be -1, got ${fmt(shape)}`);
  if (infer >= 0) {
    const known = sizeOf(target.filter((_, i) => i !== infer));
    if (known === 0 || x.size % known !== 0) fail(op, `cannot reshape ${fmt(x.shape)} into ${fmt(shape)}`);
    target[infer] = x.size / known;
  }
  checkShape(op, target);
  if (sizeOf(target) !== x.size) fail(op, `cannot reshape ${fmt(x.shape)} (${x.size} elements) into ${fmt(shape)}`);
  const strides = viewStrides(x.shape, x.strides, target);
  if (strides) return makeView(op, x, { shape: target }, target, strides, x.offset);
  const c = apply1('copy', [x]);
  try {
    return makeView(op, c, { shape: target }, target, contiguousStrides(target), 0);
  } finally {
    c.dispose();
  }
}

/** Reorders dims: output dim i is input dim `axes[i]`. */
export function permute(x: Tensor, axes: readonly number[]): Tensor {
  const op = 'permute';
  if (axes.length !== x.rank) fail(op, `axes ${fmt(axes)} must list all ${x.rank} dims of ${fmt(x.shape)}`);
  const norm = axes.map((a) => normalizeAxis(op, a, x.rank));
  if (new Set(norm).size !== norm.length) fail(op, `axes ${fmt(axes)} repeat a dim`);
  return makeView(op, x, { axes: norm }, norm.map((a) => x.shape[a]), norm.map((a) => x.strides[a]), x.offset);
}

/** Swaps two dims (default: the last two, a matrix transpose of every batch item). */
export function transpose(x: Tensor, dim0 = -2, dim1 = -1): Tensor {
  const op = 'transpose';
  if (x.rank < 2 && dim0 === -2 && dim1 === -1) return makeIdentityView(op, x);
  const a = normalizeAxis(op, dim0, x.rank, 'dim0');
  const b = normalizeAxis(op, dim1, x.rank, 'dim1');
  const axes = Array.from({ length: x.rank }, (_, i) => (i === a ? b : i === b ? a : i));
  return permute(x, axes);
}

/** @internal NumPy broadcast of `x` to `shape` as a stride-0 view. */
export function expandTo(op: string, x: Tensor, shape: readonly number[]): Tensor {
  if (shape.length < x.rank) fail(op, `cannot broadcast ${fmt(x.shape)} to ${fmt(shape)}`);
  const lead = shape.length - x.rank;
  const strides = shape.map((d, i) => {
    if (i < lead) return 0;
    const xd = x.shape[i - lead];
    if (xd === d) return x.strides[i - lead];
    if (xd === 1) return 0;
    return fail(op, `cannot broadcast ${fmt(x.shape)} to ${fmt(shape)}`);
  });
  return makeView('expand', x, { shape: [...shape] }, shape, strides, x.offset);
}

/** NumPy's broadcast_to: a read-only stride-0 view of `x` with `shape`. */
export function broadcastTo(x: Tensor, shape: readonly number[]): Tensor {
  return expandTo('broadcastTo', x, checkShape('broadcastTo', shape));
}

/** PyTorch's expand: like broadcastTo, and −1 keeps a dim's size. */
export function expand(x: Tensor, shape: readonly number[]): Tensor {
  const lead = shape.length - x.rank;
  const target = shape.map((d, i) => (d === -1 && i >= lead ? x.shape[i - lead] : d));
  return expandTo('expand', x, checkShape('expand', target));
}

/** Removes dims of size 1 (all of them, or the given ones, which must have size 1). */
export function squeeze(x: Tensor, axis?: number | number[]): Tensor {
  const op = 'squeeze';
  const drop = axis === undefined
    ? x.shape.flatMap((d, i) => (d === 1 ? [i] : []))
    : normalizeAxes(op, axis, x.rank);
  for (const a of drop) if (x.shape[a] !== 1) fail(op, `dim ${a} of ${fmt(x.shape)} has size ${x.shape[a]}, not 1`);
  const keep = (_: number, i: number) => !drop.includes(i);
  return makeView('reshape', x, { shape: x.shape.filter(keep) }, x.shape.filter(keep), x.strides.filter(keep), x.offset);
}

/** Inserts a dim of size 1 at `axis` (−1 appends). */
export function unsqueeze(x: Tensor, axis: number): Tensor {
  const a = normalizeAxis('unsqueeze', axis, x.rank + 1);
  const shape = [...x.shape];
  const strides = [...x.strides];
  shape.splice(a, 0, 1);
  strides.splice(a, 0, a < x.rank ? x.strides[a] * x.shape[a] : 1);
  return makeView('reshape', x, { shape }, shape, strides, x.offset);
}

/** Merges dims startDim..endDim into one. */
export function flatten(x: Tensor, startDim = 0, endDim = -1): Tensor {
  if (x.rank === 0) return reshape(x, [1]);
  const s = normalizeAxis('flatten', startDim, x.rank, 'startDim');
  const e = normalizeAxis('flatten', endDim, x.rank, 'endDim');
  if (s > e) fail('flatten', `startDim ${startDim} comes after endDim ${endDim} for ${fmt(x.shape)}`);
  return reshape(x, [...x.shape.slice(0, s), sizeOf(x.shape.slice(s, e + 1)), ...x.shape.slice(e + 1)]);
}

/**
 * A copy in row-major order, or a new view of `x` when it already is contiguous.
 * @param force copy even when contiguous (to get a buffer of exactly these elements)
 */
export function contiguous(x: Tensor, force = false): Tensor {
  assertAlive('contiguous', x);
  if (!force && x.isContiguous) return makeIdentityView('contiguous', x);
  return apply1('copy', [x]);
}

/**
 * One entry of an index: an integer picks one element and drops the dim; `null` keeps the whole
 * dim; `[start, stop, step]` (each optional/null) is a Python slice; `'...'` fills the remaining
 * dims; `'newaxis'` inserts a dim of size 1.
 */
export type IndexSpec = number | null | readonly [(number | null)?, (number | null)?, (number | null)?] | '...' | 'newaxis';

/** Parses NumPy index syntax: `'1:3, ::2, -1, ..., None'`. */
export function parseIndex(text: string): IndexSpec[] {
  if (text.trim() === '') return [];
  return text.split(',').map((part): IndexSpec => {
    const p = part.trim();
    if (p === '...') return '...';
    if (p === 'None' || p === 'newaxis') return 'newaxis';
    if (p === ':' || p === '::') return null;
    const num = (s: string | undefined): number | null => {
      if (s === undefined || s.trim() === '') return null;
      const v = Number(s);
      if (!Number.isInteger(v)) fail('slice', `cannot parse "${s}" in index "${text}"`);
      return v;
    };
    if (!p.includes(':')) {
      const v = num(p);
      if (v === null) fail('slice', `empty entry in index "${text}"`);
      return v;
    }
    const [a, b, c, extra] = p.split(':');
    if (extra !== undefined) fail('slice', `too many ':' in "${p}"`);
    return [num(a), num(b), num(c)];
  });
}

/** Python slice bounds: returns [start, length, step] for a dim of size n. */
function sliceBounds(n: number, start: number | null | undefined, stop: number | null | undefined, step: number | null | undefined, dim: number): [number, number, number] {
  const s = step ?? 1;
  if (!Number.isInteger(s) || s === 0) fail('slice', `step must be a non-zero integer in dim ${dim}, got ${step}`);
  const norm = (v: number, lo: number, hi: number) => Math.min(Math.max(v < 0 ? v + n : v, lo), hi);
  let b: number, e: number;
  if (s > 0) {
    b = start == null ? 0 : norm(start, 0, n);
    e = stop == null ? n : norm(stop, 0, n);
  } else {
    b = start == null ? n - 1 : norm(start, -1, n - 1);
    e = stop == null ? -1 : norm(stop, -1, n - 1);
  }
  const len = Math.max(0, Math.ceil((e - b) / s));
  return [b, len, s];
}

/**
 * NumPy/PyTorch indexing as a view: `x.slice('1:3, ::-1')`, `x.slice([0, [null, null, 2]])`.
 * Integers drop their dim (negative counts from the end; out of range is an error).
 */
export function slice(x: Tensor, index: string | readonly IndexSpec[]): Tensor {
  const op = 'slice';
  const specs = typeof index === 'string' ? parseIndex(index) : [...index];
  const ellipses = specs.filter((s) => s === '...').length;
  if (ellipses > 1) fail(op, 'an index can have only one "..."');
  const consuming = specs.filter((s) => s !== '...' && s !== 'newaxis').length;
  if (consuming > x.rank) fail(op, `too many indices (${consuming}) for a tensor of shape ${fmt(x.shape)}`);
  const full: IndexSpec[] = [];
  for (const s of specs) {
    if (s === '...') for (let i = 0; i < x.rank - consuming; i++) full.push(null);
    else full.push(s);
  }
  while (full.filter((s) => s !== 'newaxis').length < x.rank) full.push(null);
  // 1) a rank-preserving strided window
  const starts: number[] = [];
  const sizes: number[] = [];
  const steps: number[] = [];
  const outShape: number[] = [];
  let dim = 0;
  for (const s of full) {
    if (s === 'newaxis') {
      outShape.push(1);
      continue;
    }
    const n = x.shape[dim];
    if (typeof s === 'number') {
      if (!Number.isInteger(s) || s < -n || s >= n) fail(op, `index ${s} is out of range for dim ${dim} of size ${n} (shape ${fmt(x.shape)})`);
      starts.push(s < 0 ? s + n : s);
      sizes.push(1);
      steps.push(1);
    } else if (s === null || s === undefined) {
      starts.push(0);
      sizes.push(n);
      steps.push(1);
      outShape.push(n);
    } else if (Array.isArray(s)) {
      const [b, len, st] = sliceBounds(n, s[0], s[1], s[2], dim);
      starts.push(len === 0 ? 0 : b);
      sizes.push(len);
      steps.push(st);
      outShape.push(len);
    } else {
      fail(op, `unsupported index entry ${JSON.stringify(s)} for dim ${dim}`);
    }
    dim++;
  }
  const window = sliceView(x, starts, sizes, steps);
  // 2) drop integer-indexed dims and insert new axes
  if (sizes.length === outShape.length && sizes.every((d, i) => d === outShape[i])) return window;
  try {
    return reshape(window, outShape); // only adds or drops size-1 dims: always a view
  } finally {
    window.dispose();
  }
}

/** @internal The rank-preserving view x[starts + i·steps] for i < sizes, per dim. */
export function sliceView(x: Tensor, starts: number[], sizes: number[], steps: number[]): Tensor {
  let offset = x.offset;
  const strides = x.strides.map((st, i) => {
    offset += starts[i] * st;
    return st * steps[i];
  });
  return makeView('slice', x, { starts, sizes, steps }, sizes, strides, offset);
}

/** Reverses the order of elements along the given dims (all by default), as a view. */
export function flip(x: Tensor, axis?: number | number[]): Tensor {
  const axes = normalizeAxes('flip', axis, x.rank);
  const starts = x.shape.map((d, i) => (axes.includes(i) && d > 0 ? d - 1 : 0));
  const steps = x.shape.map((_, i) => (axes.includes(i) ? -1 : 1));
  return sliceView(x, starts, [...x.shape], steps);
}

/**
 * Joins tensors along an existing dim. Dtypes are promoted; shapes must match elsewhere.
 * @example `concat([a, b], 0)` stacks (2, 3) and (4, 3) into (6, 3)
 */
export function concat(tensors: readonly Tensor[], axis = 0): Tensor {
  const op = 'concat';
  if (tensors.length === 0) fail(op, 'needs at least one tensor');
  const ax = normalizeAxis(op, axis, tensors[0].rank);
  const dtype = tensors.map((t) => t.dtype).reduce((a, b) => promoteTypes(a, b));
  const temps: Tensor[] = [];
  const inputs = tensors.map((t) => {
    if (t.dtype === dtype) return t;
    const c = apply1('cast', [t], { dtype });
    temps.push(c);
    return c;
  });
  try {
    return apply1(op, inputs, { axis: ax });
  } finally {
    for (const t of temps) t.dispose();
  }
}

/** Joins tensors of equal shape along a new dim. */
export function stack(tensors: readonly Tensor[], axis = 0): Tensor {
  if (tensors.length === 0) fail('stack', 'needs at least one tensor');
  const first = tensors[0];
  for (const [i, t] of tensors.entries()) {
    if (t.shape.length !== first.shape.length || t.shape.some((d, j) => d !== first.shape[j])) {
      fail('stack', `tensor ${i} has shape ${fmt(t.shape)}, expected ${fmt(first.shape)}`);
    }
  }
  const ax = normalizeAxis('stack', axis, first.rank + 1);
  const expanded = tensors.map((t) => unsqueeze(t, ax));
  try {
    return concat(expanded, ax);
  } finally {
    for (const t of expanded) t.dispose();
  }
}

/**
 * Splits into views along `axis`: a number gives pieces of that size (the last may be smaller),
 * an array gives the size of each piece (they must add up to the dim).
 */
export function split(x: Tensor, sizes: number | readonly number[], axis = 0): Tensor[] {
  const op = 'split';
  const ax = normalizeAxis(op, axis, x.rank);
  const n = x.shape[ax];
  let parts: number[];
  if (typeof sizes === 'number') {
    if (!Number.isInteger(sizes) || sizes <= 0) fail(op, `size must be a positive integer, got ${sizes}`);
    parts = [];
    for (let s = 0; s < n; s += sizes) parts.push(Math.min(sizes, n - s));
    if (n === 0) parts = [0];
  } else {
    parts = [...sizes];
    if (parts.some((p) => !Number.isInteger(p) || p < 0)) fail(op, `sizes must be non-negative integers, got ${fmt(parts)}`);
    const total = parts.reduce((a, b) => a + b, 0);
    if (total !== n) fail(op, `sizes ${fmt(parts)} add up to ${total}, but dim ${ax} of ${fmt(x.shape)} is ${n}`);
  }
  let start = 0;
  return parts.map((p) => {
    const starts = x.shape.map((_, i) => (i === ax ? start : 0));
    const shape = x.shape.map((d, i) => (i === ax ? p : d));
    start += p;
    return sliceView(x, starts, shape, x.shape.map(() => 1));
  });
}

/** Splits into `chunks` views of size ceil(dim / chunks) along `axis` (PyTorch's chunk). */
export function chunk(x: Tensor, chunks: number, axis = 0): Tensor[] {
  if (!Number.isInteger(chunks) || chunks <= 0) fail('chunk', `chunks must be a positive integer, got ${chunks}`);
  const n = x.shape[normalizeAxis('chunk', axis, x.rank)];
  return split(x, Math.max(1, Math.ceil(n / chunks)), axis);
}

/**
 * Pads every dim with `pads[i] = [before, after]` copies of `value`.
 * @example `pad(x, [[0, 0], [1, 1]])` adds a zero column on each side of a matrix
 */
export function pad(x: Tensor, pads: readonly (readonly [number, number])[], value = 0): Tensor {
  const op = 'pad';
  if (pads.length !== x.rank) fail(op, `needs one [before, after] pair per dim: got ${pads.length} for shape ${fmt(x.shape)}`);
  for (const [i, p] of pads.entries()) {
    if (!Array.isArray(p) || p.length !== 2 || p.some((v) => !Number.isInteger(v) || v < 0)) {
      fail(op, `pads[${i}] must be two non-negative integers, got ${JSON.stringify(p)}`);
    }
  }
  return apply1(op, [x], { pads: pads.map((p) => [p[0], p[1]]), value });
}

/**
 * An independent float64 reference for every op the suite checks.
 *
 * Written for clarity, not speed: an array is a flat row-major `Float64Array` plus a shape, and
 * every op is a plain loop over multi-indices. Nothing here imports @ml/tensor, so a bug in the
 * library cannot hide in its own reference. Integer and bool results are computed as float64 too;
 * {@link castValue} then maps them into the output dtype (wrapping like typed arrays do).
 */

/** The dtypes, spelled out here so the reference does not depend on the library. */
export type RefDType = 'bool' | 'uint8' | 'int32' | 'float32' | 'float64';

export interface RefArray {
  readonly shape: readonly number[];
  readonly data: Float64Array;
}

// ---------------------------------------------------------------- indexing helpers

export function sizeOf(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

export function makeRef(shape: readonly number[], data?: ArrayLike<number>): RefArray {
  const out = new Float64Array(sizeOf(shape));
  if (data) {
    if (data.length !== out.length) throw new Error(`reference: ${data.length} values for shape [${shape.join(', ')}]`);
    for (let i = 0; i < out.length; i++) out[i] = Number(data[i]);
  }
  return { shape: [...shape], data: out };
}

export function scalarRef(value: number): RefArray {
  return makeRef([], [value]);
}

/** The multi-index of flat position `flat` in a row-major array of `shape`. */
export function unravel(flat: number, shape: readonly number[]): number[] {
  const idx = new Array<number>(shape.length);
  for (let d = shape.length - 1; d >= 0; d--) {
    idx[d] = flat % shape[d];
    flat = Math.floor(flat / shape[d]);
  }
  return idx;
}

/** The flat row-major position of multi-index `idx` in `shape`. */
export function ravel(idx: readonly number[], shape: readonly number[]): number {
  let flat = 0;
  for (let d = 0; d < shape.length; d++) flat = flat * shape[d] + idx[d];
  return flat;
}

/** The element at multi-index `idx`. */
export function at(x: RefArray, idx: readonly number[]): number {
  return x.data[ravel(idx, x.shape)];
}

function normAxis(axis: number, rank: number): number {
  if (!Number.isInteger(axis) || axis < -rank || axis >= rank) throw new Error(`reference: axis ${axis} for rank ${rank}`);
  return axis < 0 ? axis + rank : axis;
}

function normAxes(axes: number | readonly number[] | undefined, rank: number): number[] {
  if (axes === undefined) return Array.from({ length: rank }, (_, i) => i);
  const list = typeof axes === 'number' ? [axes] : axes;
  return [...new Set(list.map((a) => normAxis(a, rank)))].sort((a, b) => a - b);
}

// ---------------------------------------------------------------- dtypes

/** The value `v` becomes when stored in `dtype` (truncation toward zero and wrapping for ints). */
export function castValue(v: number, dtype: RefDType): number {
  switch (dtype) {
    case 'float64':
      return v;
    case 'float32':
      return Math.fround(v);
    case 'bool':
      return v !== 0 ? 1 : 0; // NaN counts as true
    case 'int32':
      return Number.isFinite(v) ? Math.trunc(v) | 0 : 0;
    case 'uint8':
      return Number.isFinite(v) ? (Math.trunc(v) | 0) & 255 : 0;
  }
}

export function cast(x: RefArray, dtype: RefDType): RefArray {
  return map(x, (v) => castValue(v, dtype));
}

const ORDER: RefDType[] = ['bool', 'uint8', 'int32', 'float32', 'float64'];

export const isFloatType = (d: RefDType): boolean => d === 'float32' || d === 'float64';

/** The larger dtype in the order bool < uint8 < int32 < float32 < float64. */
export function promote(a: RefDType, b: RefDType): RefDType {
  return ORDER.indexOf(a) >= ORDER.indexOf(b) ? a : b;
}

/** dtype of `tensor (op) jsValue`: JS numbers are weak and adopt the tensor's dtype when they fit. */
export function promoteScalar(t: RefDType, v: number | boolean): RefDType {
  if (typeof v === 'boolean' || isFloatType(t)) return t;
  if (!Number.isInteger(v)) return 'float32';
  if (t === 'bool') return 'int32';
  if (t === 'uint8' && (v < 0 || v > 255)) return 'int32';
  return t;
}

/** Arithmetic (add, mul, sum...) on bool computes in int32. */
export const arithType = (d: RefDType): RefDType => (d === 'bool' ? 'int32' : d);
/** Math functions and true division give float32 for non-float inputs. */
export const floatOf = (d: RefDType): RefDType => (isFloatType(d) ? d : 'float32');
/** Sums and products of bool, uint8 and int32 accumulate in int32. */
export const sumType = (d: RefDType): RefDType => (isFloatType(d) ? d : 'int32');

// ---------------------------------------------------------------- elementwise

export function map(x: RefArray, f: (v: number) => number): RefArray {
  const out = makeRef(x.shape);
  for (let i = 0; i < out.data.length; i++) out.data[i] = f(x.data[i]);
  return out;
}

/** NumPy broadcasting of any number of shapes (throws when incompatible). */
export function broadcastShape(...shapes: (readonly number[])[]): number[] {
  const rank = Math.max(0, ...shapes.map((s) => s.length));
  const out: number[] = [];
  for (let i = 0; i < rank; i++) {
    let d = 1;
    for (const s of shapes) {
      const k = s[s.length - rank + i] ?? 1;
      if (k !== 1) {
        if (d !== 1 && d !== k) throw new Error(`reference: cannot broadcast [${shapes.map((x) => x.join(',')).join('] [')}]`);
        d = k;
      }
    }
    out.push(d);
  }
  return out;
}

/** The element of `x` that broadcasting maps to output multi-index `idx`. */
function broadcastAt(x: RefArray, idx: readonly number[]): number {
  const lead = idx.length - x.shape.length;
  const own = x.shape.map((d, i) => (d === 1 ? 0 : idx[lead + i]));
  return at(x, own);
}

/** Applies `f` elementwise to broadcast inputs. */
export function zipWith(inputs: readonly RefArray[], f: (...v: number[]) => number): RefArray {
  const shape = broadcastShape(...inputs.map((x) => x.shape));
  const out = makeRef(shape);
  for (let i = 0; i < out.data.length; i++) {
    const idx = unravel(i, shape);
    out.data[i] = f(...inputs.map((x) => broadcastAt(x, idx)));
  }
  return out;
}

export function broadcastTo(x: RefArray, shape: readonly number[]): RefArray {
  const out = makeRef(shape);
  for (let i = 0; i < out.data.length; i++) out.data[i] = broadcastAt(x, unravel(i, shape));
  return out;
}

/** Round half to even: 0.5 → 0, 1.5 → 2, 2.5 → 2, −2.5 → −2. */
export function roundHalfEven(v: number): number {
  if (!Number.isFinite(v)) return v;
  const f = Math.floor(v);
  const diff = v - f;
  if (diff < 0.5) return f;
  if (diff > 0.5) return f + 1;
  return f % 2 === 0 ? f : f + 1;
}

/**
 * erf by the everywhere-convergent series of positive terms
 * erf(x) = 2/√π · e^(−x²) · Σₙ 2ⁿ x^(2n+1) / (1·3·5···(2n+1)),
 * which has no cancellation, so float64 gives it to a few ulps.
 */
export function erf(x: number): number {
  if (Number.isNaN(x)) return NaN;
  if (x === 0) return x;
  const a = Math.abs(x);
  if (a > 6) return Math.sign(x);
  let term = a;
  let sum = a;
  for (let n = 1; n < 500; n++) {
    term *= (2 * a * a) / (2 * n + 1);
    sum += term;
    if (term < sum * 1e-17) break;
  }
  const r = (2 / Math.sqrt(Math.PI)) * Math.exp(-a * a) * sum;
  return x < 0 ? -r : r;
}

/** erfinv by bisection on {@link erf}: slow and obviously right. ±1 → ±∞, outside [−1, 1] → NaN. */
export function erfinv(y: number): number {
  if (Number.isNaN(y) || y < -1 || y > 1) return NaN;
  if (y === 1) return Infinity;
  if (y === -1) return -Infinity;
  if (y === 0) return y;
  let lo = -7;
  let hi = 7;
  for (let i = 0; i < 2000; i++) {
    const mid = (lo + hi) / 2;
    if (mid === lo || mid === hi) break;
    if (erf(mid) < y) lo = mid;
    else hi = mid;
  }
  return (lo + hi) / 2;
}

export function sigmoid(v: number): number {
  return 1 / (1 + Math.exp(-v));
}

export function gelu(v: number): number {
  return 0.5 * v * (1 + erf(v / Math.SQRT2));
}

export function geluTanh(v: number): number {
  return 0.5 * v * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (v + 0.044715 * v * v * v)));
}

export function softplus(v: number): number {
  // log(1 + eᵛ) written so that it stays finite for large v
  return v > 0 ? v + Math.log1p(Math.exp(-v)) : Math.log1p(Math.exp(v));
}

/** a mod b with the sign of b (Python's %). */
export function modValue(a: number, b: number): number {
  const r = a % b;
  return r !== 0 && (r < 0) !== (b < 0) ? r + b : r;
}

/** NaN-propagating max and min (Math.max already propagates NaN). */
export const maxValue = (a: number, b: number): number => Math.max(a, b);
export const minValue = (a: number, b: number): number => Math.min(a, b);

/** One-argument elementwise functions by their public name. */
export const UNARY: Readonly<Record<string, (v: number) => number>> = {
  neg: (v) => -v,
  abs: Math.abs,
  sign: (v) => (v > 0 ? 1 : v < 0 ? -1 : v),
  exp: Math.exp,
  log: Math.log,
  log1p: Math.log1p,
  expm1: Math.expm1,
  sqrt: Math.sqrt,
  rsqrt: (v) => 1 / Math.sqrt(v),
  square: (v) => v * v,
  reciprocal: (v) => 1 / v,
  sin: Math.sin,
  cos: Math.cos,
  tanh: Math.tanh,
  sigmoid,
  relu: (v) => (v > 0 ? v : 0),
  gelu,
  geluTanh,
  softplus,
  erf,
  erfinv,
  floor: Math.floor,
  ceil: Math.ceil,
  round: roundHalfEven,
};

export const leakyRelu = (v: number, slope: number): number => (v > 0 ? v : slope * v);

/** Clamps into [lo, hi]; null leaves a side open; NaN stays NaN. */
export function clipValue(v: number, lo: number | null, hi: number | null): number {
  if (Number.isNaN(v)) return v;
  if (lo !== null && v < lo) return lo;
  if (hi !== null && v > hi) return hi;
  return v;
}

/** Two-argument elementwise functions by their public name (comparisons give 0/1). */
export const BINARY: Readonly<Record<string, (a: number, b: number) => number>> = {
  add: (a, b) => a + b,
  sub: (a, b) => a - b,
  mul: (a, b) => a * b,
  div: (a, b) => a / b,
  pow: Math.pow,
  maximum: maxValue,
  minimum: minValue,
  mod: modValue,
  eq: (a, b) => +(a === b),
  ne: (a, b) => +(a !== b),
  lt: (a, b) => +(a < b),
  le: (a, b) => +(a <= b),
  gt: (a, b) => +(a > b),
  ge: (a, b) => +(a >= b),
  logicalAnd: (a, b) => +(a !== 0 && b !== 0),
  logicalOr: (a, b) => +(a !== 0 || b !== 0),
  logicalXor: (a, b) => +((a !== 0) !== (b !== 0)),
};

export function where(cond: RefArray, a: RefArray, b: RefArray): RefArray {
  return zipWith([cond, a, b], (c, x, y) => (c !== 0 ? x : y));
}

// ---------------------------------------------------------------- reductions

/**
 * Groups the elements of `x` by their position outside `axes`: one list per output element, in
 * row-major order of the kept dims; each list runs in row-major order of the reduced dims.
 */
export function reduceGroups(x: RefArray, axes: number | readonly number[] | undefined): { shape: number[]; kept: number[]; groups: number[][] } {
  const ax = normAxes(axes, x.shape.length);
  const shape = x.shape.filter((_, i) => !ax.includes(i));
  const kept = x.shape.map((d, i) => (ax.includes(i) ? 1 : d));
  const groups: number[][] = Array.from({ length: sizeOf(shape) }, () => []);
  for (let i = 0; i < x.data.length; i++) {
    const idx = unravel(i, x.shape);
    const outIdx = idx.filter((_, d) => !ax.includes(d));
    groups[ravel(outIdx, shape)].push(x.data[i]);
  }
  return { shape, kept, groups };
}

/** Reduces each group with `f`, keeping reduced dims as size 1 when `keepdims`. */
export function reduce(
  x: RefArray,
  axes: number | readonly number[] | undefined,
  keepdims: boolean,
  f: (values: number[]) => number,
): RefArray {
  const { shape, kept, groups } = reduceGroups(x, axes);
  return makeRef(keepdims ? kept : shape, groups.map(f));
}

export const sumOf = (v: number[]): number => v.reduce((a, b) => a + b, 0);
export const prodOf = (v: number[]): number => v.reduce((a, b) => a * b, 1);
export const maxOf = (v: number[]): number => v.reduce(maxValue, -Infinity);
export const minOf = (v: number[]): number => v.reduce(minValue, Infinity);
export const meanOf = (v: number[]): number => sumOf(v) / v.length;

export function varianceOf(v: number[], correction: number): number {
  const m = meanOf(v);
  const n = v.length - correction;
  return n > 0 ? sumOf(v.map((x) => (x - m) * (x - m))) / n : NaN;
}

export function logsumexpOf(v: number[]): number {
  const m = maxOf(v);
  if (!Number.isFinite(m)) return m;
  return m + Math.log(sumOf(v.map((x) => Math.exp(x - m))));
}

/** Index of the first maximum (or minimum); a NaN wins at its first position. */
export function argOf(v: number[], isMax: boolean): number {
  let best = 0;
  for (let i = 0; i < v.length; i++) {
    if (Number.isNaN(v[i])) return i;
    if (isMax ? v[i] > v[best] : v[i] < v[best]) best = i;
  }
  return best;
}

export function sum(x: RefArray, axes?: number | readonly number[], keepdims = false): RefArray {
  return reduce(x, axes, keepdims, sumOf);
}

// ---------------------------------------------------------------- along one axis

/** Calls `f` on every line of `x` along `axis`, with the flat positions of that line. */
export function forEachLine(x: { shape: readonly number[] }, axis: number, f: (positions: number[]) => void): void {
  const ax = normAxis(axis, x.shape.length);
  const outer = x.shape.map((d, i) => (i === ax ? 1 : d));
  const count = sizeOf(outer);
  for (let o = 0; o < count; o++) {
    const idx = unravel(o, outer);
    const positions: number[] = [];
    for (let j = 0; j < x.shape[ax]; j++) {
      idx[ax] = j;
      positions.push(ravel(idx, x.shape));
    }
    f(positions);
  }
}

export function cumsum(x: RefArray, axis: number): RefArray {
  const out = makeRef(x.shape);
  forEachLine(x, axis, (pos) => {
    let acc = 0;
    for (const p of pos) {
      acc += x.data[p];
      out.data[p] = acc;
    }
  });
  return out;
}

/** Stable sort along `axis`; NaN counts as the largest value. Returns values and int indices. */
export function sort(x: RefArray, axis = -1, descending = false): { values: RefArray; indices: RefArray } {
  const values = makeRef(x.shape);
  const indices = makeRef(x.shape);
  const rank = (v: number) => (Number.isNaN(v) ? 1 : 0);
  forEachLine(x, axis, (pos) => {
    const items = pos.map((p, i) => ({ v: x.data[p], i }));
    items.sort((a, b) => {
      let c = rank(a.v) - rank(b.v);
      if (c === 0 && rank(a.v) === 0) c = a.v < b.v ? -1 : a.v > b.v ? 1 : 0;
      if (descending) c = -c;
      return c !== 0 ? c : a.i - b.i; // ties keep their original order
    });
    pos.forEach((p, j) => {
      values.data[p] = items[j].v;
      indices.data[p] = items[j].i;
    });
  });
  return { values, indices };
}

/** The first `k` entries of the (descending when `largest`) sort along `axis`. */
export function topk(x: RefArray, k: number, axis = -1, largest = true): { values: RefArray; indices: RefArray } {
  const ax = normAxis(axis, x.shape.length);
  const sorted = sort(x, ax, largest);
  const take = (a: RefArray) => slice(a, x.shape.map((_, i) => (i === ax ? [0, k, 1] : null)));
  return { values: take(sorted.values), indices: take(sorted.indices) };
}

export function softmax(x: RefArray, axis = -1): RefArray {
  const out = makeRef(x.shape);
  forEachLine(x, axis, (pos) => {
    const m = maxOf(pos.map((p) => x.data[p]));
    const e = pos.map((p) => Math.exp(x.data[p] - m));
    const s = sumOf(e);
    pos.forEach((p, j) => (out.data[p] = e[j] / s));
  });
  return out;
}

export function logSoftmax(x: RefArray, axis = -1): RefArray {
  const out = makeRef(x.shape);
  forEachLine(x, axis, (pos) => {
    const lse = logsumexpOf(pos.map((p) => x.data[p]));
    pos.forEach((p) => (out.data[p] = x.data[p] - lse));
  });
  return out;
}

// ---------------------------------------------------------------- products

/** NumPy matmul: batched, broadcast batch dims, and 1-D operands as row/column vectors. */
export function matmul(a: RefArray, b: RefArray): RefArray {
  if (a.shape.length === 0 || b.shape.length === 0) throw new Error('reference: matmul of a 0-d array');
  const a2 = a.shape.length === 1 ? makeRef([1, a.shape[0]], a.data) : a;
  const b2 = b.shape.length === 1 ? makeRef([b.shape[0], 1], b.data) : b;
  const [m, k] = a2.shape.slice(-2);
  const [k2, n] = b2.shape.slice(-2);
  if (k !== k2) throw new Error('reference: matmul inner dims differ');
  const batch = broadcastShape(a2.shape.slice(0, -2), b2.shape.slice(0, -2));
  const out = makeRef([...batch, m, n]);
  for (let i = 0; i < out.data.length; i++) {
    const idx = unravel(i, out.shape);
    const bi = idx.slice(0, -2);
    const [r, c] = idx.slice(-2);
    let acc = 0;
    for (let j = 0; j < k; j++) {
      acc += broadcastAt(a2, [...bi, r, j]) * broadcastAt(b2, [...bi, j, c]);
    }
    out.data[i] = acc;
  }
  const shape = [...batch, ...(a.shape.length > 1 ? [m] : []), ...(b.shape.length > 1 ? [n] : [])];
  return makeRef(shape, out.data);
}

export function outer(a: RefArray, b: RefArray): RefArray {
  const out = makeRef([a.data.length, b.data.length]);
  for (let i = 0; i < a.data.length; i++) for (let j = 0; j < b.data.length; j++) out.data[i * b.data.length + j] = a.data[i] * b.data[j];
  return out;
}

/**
 * Einstein summation by brute force: loops over every assignment of every letter and adds the
 * product of the operands into the output. Without `->` the output is the letters used once, sorted.
 */
export function einsum(spec: string, ...xs: RefArray[]): RefArray {
  const [lhs, rhs] = spec.replace(/\s+/g, '').split('->');
  const inputs = lhs.split(',');
  let output = rhs;
  if (output === undefined) {
    const all = inputs.join('');
    output = [...new Set(all)].filter((c) => all.split(c).length === 2).sort().join('');
  }
  const size = new Map<string, number>();
  inputs.forEach((letters, t) => {
    [...letters].forEach((c, d) => {
      const n = xs[t].shape[d];
      if (size.has(c) && size.get(c) !== n) throw new Error(`reference: einsum letter ${c} sizes differ`);
      size.set(c, n);
    });
  });
  const letters = [...size.keys()];
  const dims = letters.map((c) => size.get(c)!);
  const outShape = [...output].map((c) => size.get(c)!);
  const out = makeRef(outShape);
  const total = sizeOf(dims);
  for (let i = 0; i < total; i++) {
    const value = unravel(i, dims);
    const of = (c: string) => value[letters.indexOf(c)];
    let p = 1;
    inputs.forEach((ls, t) => {
      p *= at(xs[t], [...ls].map(of));
    });
    out.data[ravel([...output].map(of), outShape)] += p;
  }
  return out;
}

// ---------------------------------------------------------------- building and masking

export function oneHot(indices: RefArray, numClasses: number): RefArray {
  const out = makeRef([...indices.shape, numClasses]);
  indices.data.forEach((c, i) => {
    out.data[i * numClasses + c] = 1;
  });
  return out;
}

/** Keeps entries with j − i ≤ k (lower) or j − i ≥ k (upper) in the last two dims. */
export function triangle(x: RefArray, k: number, lower: boolean): RefArray {
  const out = makeRef(x.shape);
  for (let p = 0; p < x.data.length; p++) {
    const idx = unravel(p, x.shape);
    const i = idx[idx.length - 2];
    const j = idx[idx.length - 1];
    const keep = lower ? j - i <= k : j - i >= k;
    out.data[p] = keep ? x.data[p] : 0;
  }
  return out;
}

export function concat(xs: readonly RefArray[], axis: number): RefArray {
  const ax = normAxis(axis, xs[0].shape.length);
  const shape = [...xs[0].shape];
  shape[ax] = xs.reduce((acc, x) => acc + x.shape[ax], 0);
  const out = makeRef(shape);
  let start = 0;
  for (const x of xs) {
    for (let p = 0; p < x.data.length; p++) {
      const idx = unravel(p, x.shape);
      idx[ax] += start;
      out.data[ravel(idx, shape)] = x.data[p];
    }
    start += x.shape[ax];
  }
  return out;
}

export function stack(xs: readonly RefArray[], axis: number): RefArray {
  const ax = normAxis(axis, xs[0].shape.length + 1);
  return concat(xs.map((x) => unsqueeze(x, ax)), ax);
}

/** Pieces along `axis`: of `sizes` each (last may be smaller) or of the listed sizes. */
export function split(x: RefArray, sizes: number | readonly number[], axis: number): RefArray[] {
  const ax = normAxis(axis, x.shape.length);
  const n = x.shape[ax];
  let parts: number[];
  if (typeof sizes === 'number') {
    parts = [];
    for (let s = 0; s < n; s += sizes) parts.push(Math.min(sizes, n - s));
    if (n === 0) parts = [0];
  } else {
    parts = [...sizes];
  }
  let start = 0;
  return parts.map((p) => {
    const piece = slice(x, x.shape.map((_, i) => (i === ax ? [start, start + p, 1] : null)));
    start += p;
    return piece;
  });
}

/** PyTorch's chunk: pieces of ceil(n / chunks) along `axis`. */
export function chunk(x: RefArray, chunks: number, axis: number): RefArray[] {
  const n = x.shape[normAxis(axis, x.shape.length)];
  return split(x, Math.max(1, Math.ceil(n / chunks)), axis);
}

export function pad(x: RefArray, pads: readonly (readonly [number, number])[], value: number): RefArray {
  const shape = x.shape.map((d, i) => d + pads[i][0] + pads[i][1]);
  const out = makeRef(shape);
  out.data.fill(value);
  for (let p = 0; p < x.data.length; p++) {
    const idx = unravel(p, x.shape).map((v, i) => v + pads[i][0]);
    out.data[ravel(idx, shape)] = x.data[p];
  }
  return out;
}

// ---------------------------------------------------------------- indexing

/** PyTorch gather: out[p] = x[p with dim `axis` replaced by index[p]]. */
export function gather(x: RefArray, axis: number, index: RefArray): RefArray {
  const ax = normAxis(axis, x.shape.length);
  const out = makeRef(index.shape);
  for (let p = 0; p < index.data.length; p++) {
    const idx = unravel(p, index.shape);
    idx[ax] = index.data[p];
    out.data[p] = at(x, idx);
  }
  return out;
}

/** The slices x[index[0]], x[index[1]]... along `axis`. */
export function indexSelect(x: RefArray, axis: number, index: readonly number[]): RefArray {
  const ax = normAxis(axis, x.shape.length);
  const shape = x.shape.map((d, i) => (i === ax ? index.length : d));
  const out = makeRef(shape);
  for (let p = 0; p < out.data.length; p++) {
    const idx = unravel(p, shape);
    idx[ax] = index[idx[ax]];
    out.data[p] = at(x, idx);
  }
  return out;
}

/** A copy of x with src[p] added at p-with-dim-`axis`-replaced-by-index[p]. */
export function scatterAdd(x: RefArray, axis: number, index: RefArray, src: RefArray): RefArray {
  const ax = normAxis(axis, x.shape.length);
  const out = makeRef(x.shape, x.data);
  for (let p = 0; p < index.data.length; p++) {
    const idx = unravel(p, index.shape);
    idx[ax] = index.data[p];
    out.data[ravel(idx, x.shape)] += src.data[p];
  }
  return out;
}

// ---------------------------------------------------------------- shapes

export function reshape(x: RefArray, shape: readonly number[]): RefArray {
  const known = sizeOf(shape.filter((d) => d !== -1));
  const target = shape.map((d) => (d === -1 ? x.data.length / known : d));
  return makeRef(target, x.data);
}

/** Output dim i is input dim axes[i]. */
export function permute(x: RefArray, axes: readonly number[]): RefArray {
  const ax = axes.map((a) => normAxis(a, x.shape.length));
  const shape = ax.map((a) => x.shape[a]);
  const out = makeRef(shape);
  for (let p = 0; p < out.data.length; p++) {
    const idx = unravel(p, shape);
    const src = new Array<number>(idx.length);
    ax.forEach((a, i) => (src[a] = idx[i]));
    out.data[p] = at(x, src);
  }
  return out;
}

export function transpose(x: RefArray, dim0 = -2, dim1 = -1): RefArray {
  const rank = x.shape.length;
  if (rank < 2) return x;
  const a = normAxis(dim0, rank);
  const b = normAxis(dim1, rank);
  return permute(x, x.shape.map((_, i) => (i === a ? b : i === b ? a : i)));
}

/** Broadcast to `shape`, where −1 keeps the size of an existing dim. */
export function expand(x: RefArray, shape: readonly number[]): RefArray {
  const lead = shape.length - x.shape.length;
  return broadcastTo(x, shape.map((d, i) => (d === -1 ? x.shape[i - lead] : d)));
}

export function squeeze(x: RefArray, axes?: number | readonly number[]): RefArray {
  const drop = axes === undefined ? x.shape.flatMap((d, i) => (d === 1 ? [i] : [])) : normAxes(axes, x.shape.length);
  return makeRef(x.shape.filter((_, i) => !drop.includes(i)), x.data);
}

export function unsqueeze(x: RefArray, axis: number): RefArray {
  const a = normAxis(axis, x.shape.length + 1);
  const shape = [...x.shape];
  shape.splice(a, 0, 1);
  return makeRef(shape, x.data);
}

export function flatten(x: RefArray, startDim = 0, endDim = -1): RefArray {
  if (x.shape.length === 0) return makeRef([1], x.data);
  const s = normAxis(startDim, x.shape.length);
  const e = normAxis(endDim, x.shape.length);
  return makeRef([...x.shape.slice(0, s), sizeOf(x.shape.slice(s, e + 1)), ...x.shape.slice(e + 1)], x.data);
}

export function flip(x: RefArray, axes?: number | readonly number[]): RefArray {
  const ax = normAxes(axes, x.shape.length);
  const out = makeRef(x.shape);
  for (let p = 0; p < out.data.length; p++) {
    const idx = unravel(p, x.shape).map((v, i) => (ax.includes(i) ? x.shape[i] - 1 - v : v));
    out.data[p] = at(x, idx);
  }
  return out;
}

/** One index entry: a number picks (and drops the dim), null keeps all, a triple is a Python slice. */
export type RefIndex = number | null | readonly [(number | null)?, (number | null)?, (number | null)?] | '...' | 'newaxis';

/** Parses `'1:3, ::-1, 0, ..., None'` into entries. */
export function parseIndex(text: string): RefIndex[] {
  if (text.trim() === '') return [];
  return text.split(',').map((raw): RefIndex => {
    const p = raw.trim();
    if (p === '...') return '...';
    if (p === 'None' || p === 'newaxis') return 'newaxis';
    const parts = p.split(':').map((s) => (s.trim() === '' ? null : Number(s)));
    if (parts.length === 1) return parts[0];
    return [parts[0], parts[1], parts[2] ?? null];
  });
}

/** The positions a Python slice visits in a dim of size n (CPython's slice.indices). */
export function sliceIndices(n: number, start: number | null | undefined, stop: number | null | undefined, step: number | null | undefined): number[] {
  const st = step ?? 1;
  const lower = st > 0 ? 0 : -1;
  const upper = st > 0 ? n : n - 1;
  const clamp = (v: number | null | undefined, dflt: number) => {
    if (v === null || v === undefined) return dflt;
    return v < 0 ? Math.max(v + n, lower) : Math.min(v, upper);
  };
  const b = clamp(start, st > 0 ? lower : upper);
  const e = clamp(stop, st > 0 ? upper : lower);
  const out: number[] = [];
  for (let i = b; st > 0 ? i < e : i > e; i += st) out.push(i);
  return out;
}

/** NumPy basic indexing. */
export function slice(x: RefArray, index: string | readonly RefIndex[]): RefArray {
  const entries = typeof index === 'string' ? parseIndex(index) : [...index];
  const consuming = entries.filter((e) => e !== '...' && e !== 'newaxis').length;
  const full: RefIndex[] = [];
  for (const e of entries) {
    if (e === '...') for (let i = 0; i < x.shape.length - consuming; i++) full.push(null);
    else full.push(e);
  }
  while (full.filter((e) => e !== 'newaxis').length < x.shape.length) full.push(null);
  // per input dim, the positions to visit; per output dim, where it comes from
  const picks: number[][] = [];
  const outShape: number[] = [];
  const outToIn: (number | null)[] = []; // input dim feeding each output dim (null: new axis)
  let dim = 0;
  for (const e of full) {
    if (e === 'newaxis') {
      outShape.push(1);
      outToIn.push(null);
      continue;
    }
    const n = x.shape[dim];
    if (typeof e === 'number') {
      picks.push([e < 0 ? e + n : e]);
    } else if (e === null) {
      picks.push(Array.from({ length: n }, (_, i) => i));
      outShape.push(n);
      outToIn.push(dim);
    } else if (Array.isArray(e)) {
      const pos = sliceIndices(n, e[0], e[1], e[2]);
      picks.push(pos);
      outShape.push(pos.length);
      outToIn.push(dim);
    }
    dim++;
  }
  const out = makeRef(outShape);
  for (let p = 0; p < out.data.length; p++) {
    const oidx = unravel(p, outShape);
    const src = picks.map((pk) => pk[0]);
    outToIn.forEach((d, o) => {
      if (d !== null) src[d] = picks[d][oidx[o]];
    });
    out.data[p] = at(x, src);
  }
  return out;
}

/** Gathering, scattering, one-hot encoding, diagonals and triangular masks. */
import type { DType } from '../dtype.js';
import { apply1, assertAlive, makeView } from '../engine.js';
import { fail, fmt } from '../errors.js';
import { normalizeAxis } from '../shape.js';
import { Tensor } from '../tensor.js';
import { arange, tensor } from './create.js';
import { cast, eq, le, sub, where } from './elementwise.js';
import { expandTo, reshape, unsqueeze } from './shape.js';

function checkIndex(op: string, index: unknown): asserts index is Tensor {
  if (!(index instanceof Tensor)) fail(op, 'index must be an int32 Tensor');
  if (index.dtype !== 'int32') fail(op, `index must be int32, got ${index.dtype}`);
}

/**
 * PyTorch's gather: `out[i][j][k] = x[i][index[i][j][k]][k]` for `axis = 1`.
 * `index` has x's rank; out has index's shape. Indices out of range are an error.
 */
export function gather(x: Tensor, axis: number, index: Tensor): Tensor {
  checkIndex('gather', index);
  return apply1('gather', [x, index], { axis: normalizeAxis('gather', axis, x.rank) });
}

/**
 * Picks the slices `index[0], index[1], ...` of `x` along `axis` (1-D int32 index, or an array).
 * @example `indexSelect(embeddings, 0, tokenIds)` looks up rows
 */
export function indexSelect(x: Tensor, axis: number, index: Tensor | readonly number[]): Tensor {
  const op = 'indexSelect';
  const ax = normalizeAxis(op, axis, x.rank);
  assertAlive(op, x, ...(index instanceof Tensor ? [index] : []));
  const n = x.shape[ax];
  const checkRange = (values: ArrayLike<number>) => {
    for (let i = 0; i < values.length; i++) {
      if (!Number.isInteger(values[i]) || values[i] < -n || values[i] >= n) {
        fail(op, `index ${values[i]} is out of range for dim ${ax} of size ${n} (input ${fmt(x.shape)})`);
      }
    }
  };
  if (!(index instanceof Tensor)) checkRange(index);
  const idx = index instanceof Tensor ? index : tensor([...index], { dtype: 'int32', backend: x.backend });
  try {
    checkIndex(op, idx);
    if (idx.rank !== 1) fail(op, `index must be 1-D, got shape ${fmt(idx.shape)}`);
    if (idx === index && idx.backend.readSync) checkRange(idx.dataSync());
    const outShape = x.shape.map((d, i) => (i === ax ? idx.size : d));
    const lifted = reshape(idx, x.shape.map((_, i) => (i === ax ? idx.size : 1)));
    const full = expandTo(op, lifted, outShape);
    try {
      return apply1('gather', [x, full], { axis: ax });
    } finally {
      lifted.dispose();
      full.dispose();
    }
  } finally {
    if (idx !== index) idx.dispose();
  }
}

/**
 * A copy of `x` with `src` added at `index` along `axis` (PyTorch's scatter_add, not in place):
 * `out[i][index[i][j]][k] += src[i][j][k]` for `axis = 1`. Repeated indices accumulate.
 */
export function scatterAdd(x: Tensor, axis: number, index: Tensor, src: Tensor): Tensor {
  checkIndex('scatterAdd', index);
  return apply1('scatterAdd', [x, index, src], { axis: normalizeAxis('scatterAdd', axis, x.rank) });
}

/**
 * One-hot encoding: `out[..., c] = 1` where `indices[...] == c` (float32 by default).
 * Indices outside [0, numClasses) are an error on backends that can check synchronously.
 */
export function oneHot(indices: Tensor, numClasses: number, dtype: DType = 'float32'): Tensor {
  const op = 'oneHot';
  checkIndex(op, indices);
  assertAlive(op, indices);
  if (!Number.isInteger(numClasses) || numClasses <= 0) fail(op, `numClasses must be a positive integer, got ${numClasses}`);
  if (indices.backend.readSync) {
    const data = indices.dataSync();
    for (let i = 0; i < data.length; i++) {
      if (data[i] < 0 || data[i] >= numClasses) fail(op, `index ${data[i]} is out of range for ${numClasses} classes`);
    }
  }
  const classes = arange(0, numClasses, 1, { dtype: 'int32', backend: indices.backend });
  const col = unsqueeze(indices, -1);
  const hit = eq(col, classes);
  try {
    return cast(hit, dtype);
  } finally {
    classes.dispose();
    col.dispose();
    hit.dispose(); // for bool, cast returned a view that keeps the buffer alive
  }
}

/**
 * The diagonal `offset` of the matrices in dims (axis1, axis2), as a view whose last dim runs along
 * the diagonal (NumPy's `diagonal`).
 */
export function diagonal(x: Tensor, offset = 0, axis1 = 0, axis2 = 1): Tensor {
  const op = 'diagonal';
  const a = normalizeAxis(op, axis1, x.rank, 'axis1');
  const b = normalizeAxis(op, axis2, x.rank, 'axis2');
  if (a === b) fail(op, `axis1 and axis2 must differ, both are ${a}`);
  if (!Number.isInteger(offset)) fail(op, `offset must be an integer, got ${offset}`);
  const rows = x.shape[a];
  const cols = x.shape[b];
  const len = Math.max(0, offset >= 0 ? Math.min(rows, cols - offset) : Math.min(rows + offset, cols));
  const start = len === 0 ? x.offset : x.offset + (offset >= 0 ? offset * x.strides[b] : -offset * x.strides[a]);
  const keep = (_: number, i: number) => i !== a && i !== b;
  const shape = [...x.shape.filter(keep), len];
  const strides = [...x.strides.filter(keep), x.strides[a] + x.strides[b]];
  return makeView(op, x, { offset, axis1: a, axis2: b }, shape, strides, start);
}

function triangle(op: string, x: Tensor, k: number, keepLower: boolean): Tensor {
  assertAlive(op, x);
  if (x.rank < 2) fail(op, `expects at least 2 dims, got ${fmt(x.shape)}`);
  if (!Number.isInteger(k)) fail(op, `k must be an integer, got ${k}`);
  const [m, n] = x.shape.slice(-2);
  const rows = arange(0, m, 1, { backend: x.backend });
  const cols = arange(0, n, 1, { backend: x.backend });
  const r = unsqueeze(rows, 1);
  const diff = sub(cols, r); // (m, n): j − i
  const mask = keepLower ? le(diff, k) : le(k, diff);
  try {
    return where(mask, x, 0);
  } finally {
    for (const t of [rows, cols, r, diff, mask]) t.dispose();
  }
}

/** Lower triangle (j − i ≤ k) of the last two dims, zeros elsewhere; the diagonal is kept. */
export function tril(x: Tensor, k = 0): Tensor {
  return triangle('tril', x, k, true);
}

/** Upper triangle (j − i ≥ k) of the last two dims, zeros elsewhere. */
export function triu(x: Tensor, k = 0): Tensor {
  return triangle('triu', x, k, false);
}

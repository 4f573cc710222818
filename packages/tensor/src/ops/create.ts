/** Creating tensors: from JS data, constants, ranges and the identity. */
import type { Backend } from '../backend.js';
import type { DType, TypedArray } from '../dtype.js';
import { allocArray, dtypeOfArray, isDType, isFloat } from '../dtype.js';
import { apply1, fromArray } from '../engine.js';
import { fail, fmt } from '../errors.js';
import { checkShape, sizeOf } from '../shape.js';
import type { NestedArray, Tensor } from '../tensor.js';

/** Where and how to create a tensor. */
export interface CreateOptions {
  /** Element type; see each function for its default. */
  dtype?: DType;
  /** Backend to create on (default: `getBackend()`). */
  backend?: Backend;
}

function checkDType(op: string, dtype: unknown): DType {
  if (!isDType(dtype)) fail(op, `unknown dtype ${String(dtype)} (expected float32, float64, int32, uint8 or bool)`);
  return dtype;
}

function isTypedArray(x: unknown): x is TypedArray {
  return x instanceof Float32Array || x instanceof Float64Array || x instanceof Int32Array || x instanceof Uint8Array;
}

/** Infers the shape of a nested array, rejecting ragged nesting and non-numeric leaves. */
function inferShape(data: NestedArray): number[] {
  const shape: number[] = [];
  let level: NestedArray = data;
  while (Array.isArray(level)) {
    shape.push(level.length);
    level = level[0];
    if (level === undefined) break;
  }
  return shape;
}

function flatten(op: string, data: NestedArray, shape: number[], out: number[], dim: number, path: number[]): void {
  if (dim === shape.length) {
    if (Array.isArray(data)) fail(op, `ragged nested array at [${path.join(', ')}]: expected a number, got an array`);
    if (typeof data === 'boolean') out.push(data ? 1 : 0);
    else if (typeof data === 'number') out.push(data);
    else fail(op, `element at [${path.join(', ')}] is ${typeof data}, expected a number or boolean`);
    return;
  }
  if (!Array.isArray(data) || data.length !== shape[dim]) {
    const got = Array.isArray(data) ? `length ${data.length}` : 'a scalar';
    fail(op, `ragged nested array at [${path.join(', ')}]: expected length ${shape[dim]}, got ${got}`);
  }
  for (let i = 0; i < data.length; i++) flatten(op, data[i], shape, out, dim + 1, [...path, i]);
}

function firstLeaf(data: NestedArray): unknown {
  let x: unknown = data;
  while (Array.isArray(x)) x = x[0];
  return x;
}

/**
 * Creates a tensor from a number, a boolean, nested arrays or a typed array.
 *
 * Default dtype: `bool` for booleans, the array's own type for typed arrays
 * (`Uint8Array` → uint8), float32 otherwise.
 *
 * @param data  nested arrays (must be rectangular), a scalar, or a flat typed array
 * @param opts  `dtype`, `backend`, and `shape` to view flat data as n-d
 * @example
 * ```ts
 * const a = tensor([[1, 2], [3, 4]]);                 // (2, 2) float32
 * const i = tensor([0, 2, 1], { dtype: 'int32' });
 * const m = tensor(new Float64Array(6), { shape: [2, 3] });
 * ```
 */
export function tensor(data: NestedArray | TypedArray, opts: CreateOptions & { shape?: readonly number[] } = {}): Tensor {
  const op = 'tensor';
  let values: TypedArray | number[];
  let shape: number[];
  let dtype: DType;
  if (isTypedArray(data)) {
    values = data;
    shape = [data.length];
    dtype = opts.dtype !== undefined ? checkDType(op, opts.dtype) : dtypeOfArray(data);
  } else {
    shape = inferShape(data);
    const flat: number[] = [];
    flatten(op, data, shape, flat, 0, []);
    values = flat;
    dtype = opts.dtype !== undefined ? checkDType(op, opts.dtype) : typeof firstLeaf(data) === 'boolean' ? 'bool' : 'float32';
  }
  if (opts.shape !== undefined) {
    const s = checkShape(op, opts.shape);
    if (sizeOf(s) !== values.length) fail(op, `shape ${fmt(s)} needs ${sizeOf(s)} elements, data has ${values.length}`);
    shape = s;
  }
  const typed = toTyped(op, values, dtype);
  return fromArray(op, typed, shape, dtype, opts.backend);
}

function toTyped(op: string, values: TypedArray | number[], dtype: DType): TypedArray {
  const out = allocArray(dtype, values.length);
  if (isFloat(dtype)) {
    out.set(values);
    return out;
  }
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (dtype === 'bool') {
      out[i] = v ? 1 : 0;
      continue;
    }
    if (!Number.isFinite(v)) fail(op, `cannot store ${v} in ${dtype}`);
    out[i] = v;
  }
  return out;
}

/**
 * A tensor of `shape` filled with `value`.
 * @example `full([2, 3], 7, { dtype: 'int32' })`
 */
export function full(shape: readonly number[], value: number | boolean, opts: CreateOptions = {}): Tensor {
  return filled('full', shape, value, opts);
}

/** `full`, with errors naming `op` (zeros, ones...). */
function filled(op: string, shape: readonly number[], value: number | boolean, opts: CreateOptions): Tensor {
  const s = checkShape(op, shape);
  const dtype = opts.dtype !== undefined ? checkDType(op, opts.dtype) : typeof value === 'boolean' ? 'bool' : 'float32';
  const v = Number(value);
  if (!isFloat(dtype) && dtype !== 'bool' && !Number.isFinite(v)) fail(op, `cannot fill ${dtype} with ${v}`);
  return apply1('fill', [], { shape: s, value: v, dtype }, opts.backend);
}

/** A tensor of zeros (float32 unless `dtype` says otherwise). */
export function zeros(shape: readonly number[], opts: CreateOptions = {}): Tensor {
  return filled('zeros', shape, 0, opts);
}

/** A tensor of ones (float32 unless `dtype` says otherwise). */
export function ones(shape: readonly number[], opts: CreateOptions = {}): Tensor {
  return filled('ones', shape, 1, opts);
}

/** Zeros with the shape, dtype and backend of `x` (each overridable). */
export function zerosLike(x: Tensor, opts: CreateOptions = {}): Tensor {
  return full(x.shape, 0, { dtype: x.dtype, backend: x.backend, ...opts });
}

/** Ones with the shape, dtype and backend of `x`. */
export function onesLike(x: Tensor, opts: CreateOptions = {}): Tensor {
  return full(x.shape, 1, { dtype: x.dtype, backend: x.backend, ...opts });
}

/** `value` with the shape, dtype and backend of `x`. */
export function fullLike(x: Tensor, value: number | boolean, opts: CreateOptions = {}): Tensor {
  return full(x.shape, value, { dtype: x.dtype, backend: x.backend, ...opts });
}

/**
 * Evenly spaced values in [start, stop) with `step`, like `numpy.arange`.
 * `arange(5)` is `[0, 1, 2, 3, 4]`. Default dtype: int32 when start, stop and step are all
 * integers, float32 otherwise.
 */
export function arange(start: number, stop?: number, step = 1, opts: CreateOptions = {}): Tensor {
  const op = 'arange';
  if (stop === undefined) [start, stop] = [0, start];
  for (const [name, v] of [['start', start], ['stop', stop], ['step', step]] as const) {
    if (!Number.isFinite(v)) fail(op, `${name} must be finite, got ${v}`);
  }
  if (step === 0) fail(op, 'step must be non-zero');
  const n = Math.max(0, Math.ceil((stop - start) / step));
  const allInt = Number.isInteger(start) && Number.isInteger(stop) && Number.isInteger(step);
  const dtype = opts.dtype !== undefined ? checkDType(op, opts.dtype) : allInt ? 'int32' : 'float32';
  const data = allocArray(dtype, n);
  for (let i = 0; i < n; i++) data[i] = start + i * step;
  return fromArray(op, data, [n], dtype, opts.backend);
}

/**
 * `num` evenly spaced values from `start` to `stop` inclusive (float32 by default).
 * @example `linspace(0, 1, 5)` → `[0, 0.25, 0.5, 0.75, 1]`
 */
export function linspace(start: number, stop: number, num: number, opts: CreateOptions = {}): Tensor {
  const op = 'linspace';
  if (!Number.isInteger(num) || num < 0) fail(op, `num must be a non-negative integer, got ${num}`);
  if (!Number.isFinite(start) || !Number.isFinite(stop)) fail(op, `start and stop must be finite, got ${start} and ${stop}`);
  const dtype = opts.dtype !== undefined ? checkDType(op, opts.dtype) : 'float32';
  const data = allocArray(dtype, num);
  const step = num > 1 ? (stop - start) / (num - 1) : 0;
  for (let i = 0; i < num; i++) data[i] = i === num - 1 && num > 1 ? stop : start + i * step;
  return fromArray(op, data, [num], dtype, opts.backend);
}

/**
 * The n×m identity (ones on diagonal `k`: 0 main, >0 above, <0 below); float32 by default.
 */
export function eye(n: number, m = n, k = 0, opts: CreateOptions = {}): Tensor {
  const op = 'eye';
  checkShape(op, [n, m], 'size');
  if (!Number.isInteger(k)) fail(op, `k must be an integer, got ${k}`);
  const dtype = opts.dtype !== undefined ? checkDType(op, opts.dtype) : 'float32';
  const data = allocArray(dtype, n * m);
  for (let i = 0; i < n; i++) {
    const j = i + k;
    if (j >= 0 && j < m) data[i * m + j] = 1;
  }
  return fromArray(op, data, [n, m], dtype, opts.backend);
}

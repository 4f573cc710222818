/**
 * The machinery every group uses: building tensors with a chosen memory layout from reference
 * arrays, reading results back, comparing them with a dtype-aware tolerance, and checking that
 * every op call gives back all the memory it took.
 */
import type { Backend, DType, Tensor, TypedArray } from '@ml/tensor';
import { memory, scope, tensor } from '@ml/tensor';
import { expect, it } from 'vitest';
import type { RefArray } from './reference.js';
import { castValue, makeRef, ravel, sizeOf, unravel } from './reference.js';
import { Rng, seedOf } from './rng.js';

export interface Tolerance {
  /** Allowed error relative to the magnitude of the expected value. */
  readonly rtol: number;
  /** Allowed absolute error (relative to the scale of the inputs, which the suite keeps near 1). */
  readonly atol: number;
}

export const FLOAT32_EPS = 2 ** -23;

/**
 * Default tolerances. float32 allows a few dozen ulps (composite ops such as gelu or softmax round
 * after every step); float64 is tight, about 4500 ulps for values near 1, which leaves room for
 * reductions summed in another order.
 */
export const DEFAULT_TOLERANCE: Readonly<Record<'float32' | 'float64', Tolerance>> = {
  float32: { rtol: 32 * FLOAT32_EPS, atol: 32 * FLOAT32_EPS },
  float64: { rtol: 1e-12, atol: 1e-12 },
};

/** How a test tensor's elements are laid out in its buffer. Every layout holds the same values. */
export type Layout = 'contiguous' | 'transposed' | 'strided' | 'flipped' | 'offset' | 'expanded';

export const LAYOUTS: readonly Layout[] = ['contiguous', 'transposed', 'strided', 'flipped', 'offset', 'expanded'];

/** What the groups get: the backend under test and the suite's settings. */
export interface SuiteContext {
  /** The backend under test; set before the first test runs. */
  readonly backend: Backend;
  readonly name: string;
  readonly dtypes: readonly DType[];
  /** Tolerance for a float dtype (ints and bool always compare exactly). */
  tolerance(dtype: DType): Tolerance;
  /** Whether the backend under test stores `dtype` (and the suite was asked to test it). */
  supports(dtype: DType): boolean;
  /** Runs per fast-check property. */
  readonly numRuns: number;
  readonly seed: number;
}

// ---------------------------------------------------------------- values

/** A value domain for generated inputs. */
export type Domain = readonly [number, number];

/** Random values that `dtype` stores exactly, in `domain` (ints: integers in it, bool: 0/1). */
export function randomValues(rng: Rng, n: number, dtype: DType, domain: Domain = [-3, 3]): Float64Array {
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    if (dtype === 'bool') out[i] = rng.int(0, 1);
    else if (dtype === 'int32') out[i] = rng.int(Math.ceil(domain[0]), Math.floor(domain[1]));
    else if (dtype === 'uint8') out[i] = rng.int(Math.max(0, Math.ceil(domain[0])), Math.min(255, Math.floor(domain[1])));
    else out[i] = castValue(rng.uniform(domain[0], domain[1]), dtype);
  }
  return out;
}

/** Default integer domain per dtype, so that results fit without wrapping. */
export function defaultDomain(dtype: DType): Domain {
  if (dtype === 'uint8') return [0, 9];
  if (dtype === 'int32') return [-9, 9];
  return [-3, 3];
}

export function randomRef(rng: Rng, shape: readonly number[], dtype: DType, domain?: Domain): RefArray {
  return makeRef(shape, randomValues(rng, sizeOf(shape), dtype, domain ?? defaultDomain(dtype)));
}

/** A fresh generator for a named case, so cases do not depend on each other's order. */
export function rngFor(ctx: SuiteContext, label: string): Rng {
  return new Rng(seedOf(label, ctx.seed));
}

// ---------------------------------------------------------------- tensors from references

function typed(values: ArrayLike<number>, dtype: DType): TypedArray {
  switch (dtype) {
    case 'float32':
      return Float32Array.from(values);
    case 'float64':
      return Float64Array.from(values);
    case 'int32':
      return Int32Array.from(values);
    default:
      return Uint8Array.from(values);
  }
}

/** A contiguous tensor holding `x` as `dtype` on `backend`. */
export function fromRef(backend: Backend, x: RefArray, dtype: DType): Tensor {
  return tensor(typed(x.data, dtype), { dtype, shape: x.shape, backend });
}

/** Like {@link fromRef} but with the elements laid out as `layout` (a non-contiguous view). */
export function withLayout(backend: Backend, x: RefArray, dtype: DType, layout: Layout, rng?: Rng): Tensor {
  const shape = x.shape;
  const rank = shape.length;
  const junk = (n: number) => (rng ? Array.from({ length: n }, () => castValue(rng.int(-99, 99), dtype)) : new Array<number>(n).fill(0));
  let base: Tensor;
  let view: Tensor;
  switch (layout) {
    case 'contiguous':
      return fromRef(backend, x, dtype);
    case 'transposed': {
      // the buffer holds the array with all axes reversed; permuting them back gives x
      const bshape = [...shape].reverse();
      const data = new Float64Array(x.data.length);
      for (let p = 0; p < data.length; p++) data[ravel(unravel(p, shape).reverse(), bshape)] = x.data[p];
      base = fromRef(backend, makeRef(bshape, data), dtype);
      view = base.permute(shape.map((_, i) => rank - 1 - i));
      break;
    }
    case 'strided': {
      // every dim of size 2n+1, x at the odd positions: x = base[1::2, 1::2, ...]
      const bshape = shape.map((d) => 2 * d + 1);
      const data = Float64Array.from(junk(sizeOf(bshape)));
      for (let p = 0; p < x.data.length; p++) data[ravel(unravel(p, shape).map((v) => 2 * v + 1), bshape)] = x.data[p];
      base = fromRef(backend, makeRef(bshape, data), dtype);
      view = base.slice(shape.map(() => [1, null, 2] as const));
      break;
    }
    case 'flipped': {
      const data = new Float64Array(x.data.length);
      for (let p = 0; p < data.length; p++) data[ravel(unravel(p, shape).map((v, i) => shape[i] - 1 - v), shape)] = x.data[p];
      base = fromRef(backend, makeRef(shape, data), dtype);
      view = base.flip();
      break;
    }
    case 'offset': {
      // a contiguous window that starts 3 elements into its buffer
      const n = x.data.length;
      const data = Float64Array.from([...junk(3), ...x.data, ...junk(2)]);
      base = fromRef(backend, makeRef([n + 5], data), dtype);
      const window = base.slice([[3, 3 + n]]);
      view = window.reshape(shape);
      window.dispose();
      break;
    }
    case 'expanded': {
      // stride-0 dims: only possible when x repeats along them; use the dims where it does
      const bshape = shape.map((d, i) => (d > 1 && isConstantAlong(x, i) ? 1 : d));
      if (bshape.every((d, i) => d === shape[i])) return withLayout(backend, x, dtype, 'transposed', rng);
      const bx = makeRef(bshape);
      for (let p = 0; p < bx.data.length; p++) bx.data[p] = x.data[ravel(unravel(p, bshape), shape)];
      base = fromRef(backend, bx, dtype);
      view = base.expand(shape);
      break;
    }
  }
  base.dispose(); // the view keeps the buffer alive
  return view;
}

function isConstantAlong(x: RefArray, axis: number): boolean {
  for (let p = 0; p < x.data.length; p++) {
    const idx = unravel(p, x.shape);
    if (idx[axis] === 0) continue;
    idx[axis] = 0;
    const a = x.data[p];
    const b = x.data[ravel(idx, x.shape)];
    if (!(a === b || (Number.isNaN(a) && Number.isNaN(b)))) return false;
  }
  return true;
}

/**
 * A random input of `shape` and `dtype` for `layout`. For 'expanded' the values repeat along the
 * first dim bigger than 1 (so it can be a stride-0 view).
 */
export function randomInput(rng: Rng, shape: readonly number[], dtype: DType, layout: Layout, domain?: Domain): RefArray {
  const x = randomRef(rng, shape, dtype, domain);
  if (layout !== 'expanded') return x;
  const axis = shape.findIndex((d) => d > 1);
  if (axis < 0) return x;
  const out = makeRef(shape);
  for (let p = 0; p < out.data.length; p++) {
    const idx = unravel(p, shape);
    idx[axis] = 0;
    out.data[p] = x.data[ravel(idx, shape)];
  }
  return out;
}

// ---------------------------------------------------------------- reading back and comparing

/** A result read back from a tensor. */
export interface Got {
  readonly shape: readonly number[];
  readonly dtype: DType;
  readonly data: Float64Array;
}

export async function readTensor(t: Tensor): Promise<Got> {
  const data = await t.data();
  return { shape: [...t.shape], dtype: t.dtype, data: Float64Array.from(data) };
}

function liveCounts(backend: Backend): { tensors: number; buffers: number; bytes: number } {
  const m = memory(backend);
  return { tensors: m.tensors, buffers: m.buffers, bytes: m.bytes };
}

function collect(x: unknown, out: Tensor[]): Tensor[] {
  if (x && typeof x === 'object') {
    if ((x as { __isTensor?: boolean }).__isTensor) out.push(x as Tensor);
    else if (Array.isArray(x)) for (const v of x) collect(v, out);
    else for (const v of Object.values(x)) collect(v, out);
  }
  return out;
}

/**
 * Runs `fn` (one op call), reads every tensor it returns, disposes them, and checks that the
 * backend is back to the tensors, buffers and bytes it had before the call: an op must not leak
 * temporaries. Returns the results in the order `fn` returned them (arrays and objects flattened).
 */
export async function evaluate(backend: Backend, label: string, fn: () => unknown): Promise<Got[]> {
  const before = liveCounts(backend);
  const outs = collect(fn(), []);
  const got: Got[] = [];
  try {
    for (const t of outs) got.push(await readTensor(t));
  } finally {
    for (const t of outs) t.dispose();
  }
  const after = liveCounts(backend);
  expect(after, `${label}: memory after disposing the results`).toEqual(before);
  return got;
}

/** Like {@link evaluate} for a single result. */
export async function evaluate1(backend: Backend, label: string, fn: () => Tensor): Promise<Got> {
  const got = await evaluate(backend, label, fn);
  expect(got.length, `${label}: number of results`).toBe(1);
  return got[0];
}

function fmtShape(s: readonly number[]): string {
  return `(${s.join(', ')}${s.length === 1 ? ',' : ''})`;
}

export interface CompareOptions {
  /** Overrides the suite's tolerance for this comparison. */
  tol?: Tolerance;
  /** Per-element scale for the absolute tolerance (e.g. Σ|terms| of a sum); default 1. */
  scale?: Float64Array;
  /** Extra relative slack (multiplies rtol and atol), for ill-conditioned ops. */
  slack?: number;
}

/**
 * Asserts that `got` has `want`'s shape, the `dtype` given, and its values: exact for ints and
 * bool (after storing the reference in that dtype), within tolerance for floats; NaN must match
 * NaN and infinities must match exactly.
 */
export function expectClose(ctx: SuiteContext, label: string, got: Got, want: RefArray, dtype: DType, opts: CompareOptions = {}): void {
  expect(got.dtype, `${label}: dtype`).toBe(dtype);
  expect(fmtShape(got.shape), `${label}: shape`).toBe(fmtShape(want.shape));
  const isFloat = dtype === 'float32' || dtype === 'float64';
  const tol = opts.tol ?? (isFloat ? ctx.tolerance(dtype) : { rtol: 0, atol: 0 });
  const slack = opts.slack ?? 1;
  const bad: string[] = [];
  let badCount = 0;
  for (let i = 0; i < want.data.length; i++) {
    const g = got.data[i];
    const w = isFloat ? want.data[i] : castValue(want.data[i], dtype);
    let ok: boolean;
    if (Number.isNaN(w) || Number.isNaN(g)) ok = Number.isNaN(w) && Number.isNaN(g);
    else if (!Number.isFinite(w) || !Number.isFinite(g)) ok = g === w || (dtype === 'float32' && Math.fround(w) === g);
    else {
      const scale = opts.scale ? Math.max(1, opts.scale[i]) : 1;
      ok = Math.abs(g - w) <= slack * (tol.atol * scale + tol.rtol * Math.abs(w));
    }
    if (!ok) {
      badCount++;
      if (bad.length < 5) bad.push(`[${unravel(i, want.shape).join(', ')}]: got ${g}, want ${w}`);
    }
  }
  if (badCount > 0) {
    expect.fail(`${label}: ${badCount} of ${want.data.length} elements differ (${dtype}, rtol ${tol.rtol * slack}, atol ${tol.atol * slack}):\n  ${bad.join('\n  ')}`);
  }
}

// ---------------------------------------------------------------- test registration

export type Body = () => Promise<void> | void;

/**
 * Registers a test whose body runs in `scope()` (so a failing assertion cannot leak either) and
 * that checks the backend is back to its starting tensor and buffer counts when it ends.
 */
export function caseIt(ctx: SuiteContext, title: string, body: Body, opts: { scoped?: boolean; timeout?: number } = {}): void {
  it(title, async () => {
    const before = liveCounts(ctx.backend);
    if (opts.scoped === false) await body();
    else await scope(async () => {
      await body();
    });
    expect(liveCounts(ctx.backend), `${title}: memory at the end of the test`).toEqual(before);
  }, opts.timeout);
}

/** The float dtypes the suite tests on this backend. */
export function floatDtypes(ctx: SuiteContext): DType[] {
  return (['float32', 'float64'] as const).filter((d) => ctx.supports(d));
}

/** The numeric (non-bool) dtypes the suite tests on this backend. */
export function numericDtypes(ctx: SuiteContext): DType[] {
  return (['uint8', 'int32', 'float32', 'float64'] as const).filter((d) => ctx.supports(d));
}

export function allDtypes(ctx: SuiteContext): DType[] {
  return (['bool', 'uint8', 'int32', 'float32', 'float64'] as const).filter((d) => ctx.supports(d));
}

/** Σ|terms|-style scale of a reduction, for {@link CompareOptions.scale}. */
export function absScale(x: RefArray): Float64Array {
  return x.data.map(Math.abs);
}

/** One input of a checked call: reference values, the dtype to store them in, and a layout. */
export interface Input {
  readonly ref: RefArray;
  readonly dtype: DType;
  readonly layout?: Layout;
}

/** One expected output of a checked call. */
export interface Expected {
  readonly want: RefArray;
  readonly dtype: DType;
  readonly opts?: CompareOptions;
}

/**
 * Builds `inputs` on the backend, runs `run` on them through {@link evaluate} (so leaks are caught)
 * and compares each output with its expectation.
 */
export async function check(
  ctx: SuiteContext,
  label: string,
  inputs: readonly Input[],
  run: (...xs: Tensor[]) => unknown,
  expected: readonly Expected[],
): Promise<void> {
  const junk = new Rng(seedOf(label));
  const ts = inputs.map((x) => withLayout(ctx.backend, x.ref, x.dtype, x.layout ?? 'contiguous', junk));
  try {
    const got = await evaluate(ctx.backend, label, () => run(...ts));
    expect(got.length, `${label}: number of results`).toBe(expected.length);
    expected.forEach((e, i) => expectClose(ctx, expected.length > 1 ? `${label} [output ${i}]` : label, got[i], e.want, e.dtype, e.opts));
  } finally {
    for (const t of ts) t.dispose();
  }
}

/** Describes an input for labels: `float32(2, 3)@strided`. */
export function describeInput(x: Input): string {
  const layout = x.layout && x.layout !== 'contiguous' ? `@${x.layout}` : '';
  return `${x.dtype}${fmtShape(x.ref.shape)}${layout}`;
}

/** `t.contiguous()`, disposing `t` (for checking a view op's values through a real copy). */
export function contiguousOf(t: Tensor): Tensor {
  const c = t.contiguous();
  t.dispose();
  return c;
}

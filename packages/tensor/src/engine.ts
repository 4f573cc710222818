/**
 * The engine: the default backend, running primitives, creating views, and the hook through which
 * @ml/autograd observes every op. Nothing here runs on import.
 */
import type { Backend, View } from './backend.js';
import { createCpuBackend } from './cpu/backend.js';
import type { DType, TypedArray } from './dtype.js';
import { allocArray, arrayMatchesDType, itemSize } from './dtype.js';
import { fail, fmt } from './errors.js';
import { PRIMITIVES } from './primitives.js';
import { trackTensor } from './scope.js';
import { contiguousStrides, sizeOf } from './shape.js';
import { StorageRef, Tensor } from './tensor.js';

let defaultBackend: Backend | undefined;

/** Makes `backend` the one new tensors are created on. */
export function setBackend(backend: Backend): void {
  defaultBackend = backend;
}

/** The backend new tensors are created on (the CPU backend unless `setBackend` chose another). */
export function getBackend(): Backend {
  defaultBackend ??= createCpuBackend();
  return defaultBackend;
}

/** One executed op, as seen by hooks. View ops (reshape, permute...) are reported too. */
export interface OpRecord {
  readonly op: string;
  readonly inputs: readonly Tensor[];
  readonly params: Readonly<Record<string, any>>;
  readonly outputs: readonly Tensor[];
}

/** A function called after every op; @ml/autograd uses this to record and to push tangents. */
export type OpHook = (record: OpRecord) => void;

const hooks: OpHook[] = [];

/**
 * Installs a hook until {@link removeHook}. Hooks run in the order they were added (outermost
 * first), so an outer transform has seen an op's outputs before an inner one reacts to them.
 */
export function addHook(hook: OpHook): void {
  hooks.push(hook);
}

export function removeHook(hook: OpHook): void {
  const i = hooks.lastIndexOf(hook);
  if (i >= 0) hooks.splice(i, 1);
}

function notify(record: OpRecord): void {
  for (const h of [...hooks]) h(record);
}

const liveTensors = new Map<Backend, number>();

/** Called by Tensor when it is created or disposed. */
export function countTensor(backend: Backend, delta: number): void {
  liveTensors.set(backend, (liveTensors.get(backend) ?? 0) + delta);
}

/** Live tensors, buffers and bytes on a backend (the default one if omitted). */
export interface MemoryInfo {
  readonly backend: string;
  /** Tensor objects not yet disposed (views included). */
  readonly tensors: number;
  readonly buffers: number;
  readonly bytes: number;
}

export function memory(backend: Backend = getBackend()): MemoryInfo {
  const m = backend.memory();
  return { backend: backend.name, tensors: liveTensors.get(backend) ?? 0, buffers: m.buffers, bytes: m.bytes };
}

function checkDtype(op: string, backend: Backend, dtype: DType): void {
  if (!backend.capabilities.dtypes.includes(dtype)) {
    fail(op, `backend "${backend.name}" does not support dtype ${dtype} (it supports ${backend.capabilities.dtypes.join(', ')})`);
  }
}

function newTensor(backend: Backend, dtype: DType, shape: readonly number[]): Tensor {
  const size = sizeOf(shape);
  const storage = backend.allocate(dtype, size);
  const ref = new StorageRef(backend, storage, dtype, size * itemSize(dtype));
  const t = new Tensor(ref, shape, contiguousStrides(shape), 0);
  trackTensor(t);
  return t;
}

/** Creates a tensor holding a copy of `data` (already the dtype's typed array). */
export function fromArray(
  op: string,
  data: TypedArray,
  shape: readonly number[],
  dtype: DType,
  backend: Backend = getBackend(),
): Tensor {
  checkDtype(op, backend, dtype);
  if (data.length !== sizeOf(shape)) fail(op, `data has ${data.length} elements but shape ${fmt(shape)} needs ${sizeOf(shape)}`);
  if (!arrayMatchesDType(data, dtype)) data = convertArray(data, dtype);
  const t = newTensor(backend, dtype, shape);
  if (data.length > 0) backend.write(t.storage, dtype, data);
  return t;
}

function convertArray(data: TypedArray, dtype: DType): TypedArray {
  const out = allocArray(dtype, data.length);
  if (dtype === 'bool') for (let i = 0; i < data.length; i++) out[i] = data[i] ? 1 : 0;
  else out.set(data);
  return out;
}

export function viewOf(t: Tensor): View {
  return { storage: t.storage, dtype: t.dtype, shape: t.shape, strides: t.strides, offset: t.offset };
}

/**
 * Runs primitive `op` on `inputs` and returns its outputs. Validates everything (disposed inputs,
 * mixed backends, shapes via the primitive's rule, dtype support, kernel availability) before any
 * backend work.
 */
export function apply(op: string, inputs: readonly Tensor[], params: Record<string, any> = {}, backend?: Backend): Tensor[] {
  const rule = PRIMITIVES[op];
  if (!rule) fail(op, 'unknown primitive');
  for (const [i, t] of inputs.entries()) {
    if (t.isDisposed) fail(op, `input ${i} (shape ${fmt(t.shape)}) was disposed`);
  }
  const be = inputs[0]?.backend ?? backend ?? getBackend();
  for (const [i, t] of inputs.entries()) {
    if (t.backend !== be) {
      const same = t.backend.name === be.name ? ' (a different instance)' : '';
      fail(op, `input ${i} is on backend "${t.backend.name}"${same} but input 0 is on "${be.name}"`);
    }
  }
  const metas = rule(op, inputs, params);
  for (const m of metas) checkDtype(op, be, m.dtype);
  if (!be.hasKernel(op)) fail(op, `backend "${be.name}" has no kernel for primitive "${op}"`);
  const outputs = metas.map((m) => newTensor(be, m.dtype, m.shape));
  if (outputs.some((o) => o.size > 0)) {
    try {
      be.run(op, inputs.map(viewOf), outputs.map(viewOf), params);
    } catch (e) {
      for (const o of outputs) o.dispose(); // a kernel that rejects its data must not leak its outputs
      throw e;
    }
  }
  if (hooks.length) {
    try {
      notify({ op, inputs, params, outputs });
    } catch (e) {
      for (const o of outputs) o.dispose(); // a hook refused the op (anomaly mode...): free its results
      throw e;
    }
  }
  return outputs;
}

/** Runs a single-output primitive. */
export function apply1(op: string, inputs: readonly Tensor[], params: Record<string, any> = {}, backend?: Backend): Tensor {
  return apply(op, inputs, params, backend)[0];
}

/**
 * @internal Copies the elements of `t` into a fresh contiguous buffer without creating a tensor
 * or telling hooks (reading a value is not an op). The caller frees the buffer.
 */
export function copyForRead(t: Tensor): unknown {
  const be = t.backend;
  const storage = be.allocate(t.dtype, t.size);
  const out: View = { storage, dtype: t.dtype, shape: t.shape, strides: contiguousStrides(t.shape), offset: 0 };
  be.run('copy', [viewOf(t)], [out], {});
  return storage;
}

/**
 * @internal A second tensor object over the same elements (no copy): a reference that keeps the
 * buffer alive. By default it is invisible to hooks and scopes (autograd saves tensors this way,
 * and `stopGradient` makes constants so). `notify` reports it to hooks as an identity `reshape`;
 * `track` lets the current scope own it. Dispose it when done.
 */
export function alias(x: Tensor, opts: { notify?: boolean; track?: boolean } = {}): Tensor {
  if (x.isDisposed) fail('alias', `input (shape ${fmt(x.shape)}) was disposed`);
  const t = new Tensor(x.ref, x.shape, x.strides, x.offset);
  if (opts.track) trackTensor(t);
  if (opts.notify && hooks.length) notify({ op: 'reshape', inputs: [x], params: { shape: x.shape }, outputs: [t] });
  return t;
}

const disposeHooks: ((t: Tensor) => void)[] = [];

/** @internal Calls `hook` whenever a tensor is disposed (autograd frees graph nodes this way). */
export function addDisposeHook(hook: (t: Tensor) => void): void {
  disposeHooks.push(hook);
}

export function removeDisposeHook(hook: (t: Tensor) => void): void {
  const i = disposeHooks.lastIndexOf(hook);
  if (i >= 0) disposeHooks.splice(i, 1);
}

/** @internal Called by Tensor.dispose. */
export function notifyDispose(t: Tensor): void {
  for (const h of disposeHooks) h(t);
}

/**
 * @internal Throws, naming `op`, if any of `inputs` was disposed. Ops built from other ops call it
 * first, so the error names the op the caller used rather than an inner one.
 */
export function assertAlive(op: string, ...inputs: readonly Tensor[]): void {
  for (const [i, t] of inputs.entries()) {
    if (t.isDisposed) fail(op, `input ${i} (shape ${fmt(t.shape)}) was disposed`);
  }
}

/**
 * Creates a view of `x` (no copy) with new shape, strides and offset, reported to hooks as `op`
 * with `params` so autograd can differentiate it.
 */
export function makeView(
  op: string,
  x: Tensor,
  params: Record<string, any>,
  shape: readonly number[],
  strides: readonly number[],
  offset: number,
): Tensor {
  if (x.isDisposed) fail(op, `input (shape ${fmt(x.shape)}) was disposed`);
  const t = new Tensor(x.ref, shape, strides, offset);
  trackTensor(t);
  if (hooks.length) notify({ op, inputs: [x], params, outputs: [t] });
  return t;
}

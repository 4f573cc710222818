/**
 * @ml/tensor: n-d arrays with NumPy broadcasting, strided views, keyed randomness and a small
 * backend interface. The CPU backend is built in; other backends (WebGPU) plug in with
 * `setBackend` or per-tensor `backend` options.
 *
 * @example
 * ```ts
 * import { tensor, matmul } from '@ml/tensor';
 * const a = tensor([[1, 2], [3, 4]]);
 * console.log(await a.matmul(a).add(1).array()); // [[8, 11], [16, 23]]
 * ```
 * @packageDocumentation
 */
export type { Backend, BackendMemory, Capabilities, View } from './backend.js';
export { CpuBackend, createCpuBackend } from './cpu/backend.js';
export type { CpuBackendOptions, CpuKernel } from './cpu/backend.js';
export { loadWasmRuntime, WasmRuntime } from './cpu/wasm/runtime.js';
export type { WasmRuntimeOptions } from './cpu/wasm/runtime.js';
export type { DType, TypedArray } from './dtype.js';
export { DTYPES, isFloat, isInteger, itemSize, promoteTypes } from './dtype.js';
export type { MemoryInfo, OpHook, OpRecord } from './engine.js';
export { addDisposeHook, addHook, alias, apply, apply1, fromArray, getBackend, makeView, memory, removeDisposeHook, removeHook, setBackend } from './engine.js';
export { TensorError } from './errors.js';
export * from './ops/index.js';
export * from './ops/linalg-solvers.js';
export * as random from './random/index.js';
export type { Key } from './random/index.js';
export type { Meta, Rule } from './primitives.js';
export { PRIMITIVE_NAMES, PRIMITIVES, windowOutput } from './primitives.js';
export type { AdamStepParams, Conv2dParams, Im2colParams } from './primitives.js';
export { keep, scope } from './scope.js';
export type { Shape } from './shape.js';
export { broadcastShapes, contiguousStrides, sizeOf } from './shape.js';
export { Tensor } from './tensor.js';
export type { NestedArray } from './tensor.js';
export * from './io/index.js';

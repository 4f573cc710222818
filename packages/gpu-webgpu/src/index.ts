/**
 * @ml/gpu-webgpu: the WebGPU backend for @ml/tensor. Choose it and the same program runs on the
 * GPU: `setBackend(await webgpu())`. In browsers it uses `navigator.gpu`; in Node, the `webgpu`
 * package (Dawn).
 * @packageDocumentation
 */
export { webgpu, WebGPUBackend, workgroupsFor } from './backend.js';
export type { Dispatch, GpuKernel, GpuStorage, GpuView } from './backend.js';
export type { WebGPUOptions } from './device.js';

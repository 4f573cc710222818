/** Every WebGPU kernel by primitive name. */
import type { GpuKernel } from '../backend.js';
import { ELEMENTWISE_KERNELS } from './elementwise.js';

export const GPU_KERNELS: Readonly<Record<string, GpuKernel>> = {
  ...ELEMENTWISE_KERNELS,
};

/** Every WebGPU kernel by primitive name. */
import type { GpuKernel } from '../backend.js';
import { ELEMENTWISE_KERNELS } from './elementwise.js';
import { MOVEMENT_KERNELS } from './movement.js';
import { RANDOM_KERNELS } from './random.js';

export const GPU_KERNELS: Readonly<Record<string, GpuKernel>> = {
  ...ELEMENTWISE_KERNELS,
  ...MOVEMENT_KERNELS,
  ...RANDOM_KERNELS,
};

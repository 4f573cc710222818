/** Every WebGPU kernel by primitive name. */
import type { GpuKernel } from '../backend.js';
import { CONV_KERNELS } from './conv.js';
import { ELEMENTWISE_KERNELS } from './elementwise.js';
import { MATMUL_KERNELS } from './matmul.js';
import { MOVEMENT_KERNELS } from './movement.js';
import { OPTIM_KERNELS } from './optim.js';
import { RANDOM_KERNELS } from './random.js';
import { REDUCE_KERNELS } from './reduce.js';
import { SOFTMAX_KERNELS } from './softmax.js';

export const GPU_KERNELS: Readonly<Record<string, GpuKernel>> = {
  ...ELEMENTWISE_KERNELS,
  ...MATMUL_KERNELS,
  ...CONV_KERNELS,
  ...MOVEMENT_KERNELS,
  ...RANDOM_KERNELS,
  ...REDUCE_KERNELS,
  ...OPTIM_KERNELS,
  ...SOFTMAX_KERNELS,
};

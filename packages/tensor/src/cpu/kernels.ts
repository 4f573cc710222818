/** Every CPU kernel by primitive name. */
import type { CpuKernel } from './backend.js';
import { CONV_KERNELS } from './conv.js';
import { ELEMENTWISE_KERNELS } from './elementwise.js';
import { LINALG_KERNELS } from './linalg.js';
import { matmulKernel } from './matmul.js';
import { MOVEMENT_KERNELS } from './movement.js';
import { OPTIM_KERNELS } from './optim.js';
import { RANDOM_KERNELS } from './random.js';
import { REDUCE_KERNELS } from './reduce.js';
import { SOFTMAX_KERNELS } from './softmax.js';

export const CPU_KERNELS: Readonly<Record<string, CpuKernel>> = {
  ...ELEMENTWISE_KERNELS,
  ...REDUCE_KERNELS,
  ...MOVEMENT_KERNELS,
  ...LINALG_KERNELS,
  ...CONV_KERNELS,
  ...RANDOM_KERNELS,
  ...OPTIM_KERNELS,
  ...SOFTMAX_KERNELS,
  matmul: matmulKernel,
};

/** Every CPU kernel by primitive name. */
import type { CpuKernel } from './backend.js';
import { ELEMENTWISE_KERNELS } from './elementwise.js';
import { matmulKernel } from './matmul.js';
import { MOVEMENT_KERNELS } from './movement.js';
import { REDUCE_KERNELS } from './reduce.js';

export const CPU_KERNELS: Readonly<Record<string, CpuKernel>> = {
  ...ELEMENTWISE_KERNELS,
  ...REDUCE_KERNELS,
  ...MOVEMENT_KERNELS,
  matmul: matmulKernel,
};

/**
 * CPU kernels of the random primitives. Element `i` of the (contiguous) output depends only on the
 * key and `i`, so any backend that runs Threefry per element produces the same numbers.
 */
import { bits32, fillUniform32, fillUniform64 } from '../random/threefry.js';
import type { CpuKernel } from './backend.js';

export const RANDOM_KERNELS: Record<string, CpuKernel> = {
  /** `randomUniform({ key: [k0, k1], shape, dtype })`: uniforms on [0, 1), see threefry.ts. */
  randomUniform: (_inputs, [out], { key }: { key: readonly [number, number] }) => {
    const data = out.storage;
    if (out.dtype === 'float64') fillUniform64(key[0], key[1], data as Float64Array);
    else fillUniform32(key[0], key[1], data as Float32Array);
  },
  /** `randomBits({ key, shape })`: element i is the 32-bit word bits32(key, i), stored as int32. */
  randomBits: (_inputs, [out], { key }: { key: readonly [number, number] }) => {
    const data = out.storage;
    for (let i = 0; i < data.length; i++) data[i] = bits32(key[0], key[1], i) | 0;
  },
};

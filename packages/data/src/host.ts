/**
 * Index arithmetic on the host. Shuffles are drawn with `random.permutation` on a private CPU
 * backend, so they can be read synchronously whatever backend the data lives on (keyed draws are
 * identical on every backend, so nothing depends on where they ran).
 */
import { createCpuBackend, random, tensor } from '@ml/tensor';
import type { Backend, Key } from '@ml/tensor';

let host: Backend | undefined;

/** The private CPU backend for index arithmetic. */
export function hostBackend(): Backend {
  host ??= createCpuBackend();
  return host;
}

/** `random.permutation(key, n)` read back as an Int32Array. */
export function hostPermutation(key: Key, n: number): Int32Array {
  const perm = random.permutation(key, n, { backend: hostBackend() });
  try {
    return Int32Array.from(perm.dataSync());
  } finally {
    perm.dispose();
  }
}

/** Checks that every index is an integer in `[0, length)`. */
export function checkIndices(op: string, indices: ArrayLike<number>, length: number): void {
  for (let k = 0; k < indices.length; k++) {
    const i = indices[k];
    if (!Number.isInteger(i) || i < 0 || i >= length) {
      throw new RangeError(`${op}: index ${String(i)} (position ${k}) is out of range for a dataset of length ${length}`);
    }
  }
}

/** A 1-D int32 tensor of `indices` on `backend`. */
export function indexTensor(indices: Int32Array, backend: Backend) {
  return tensor(indices, { dtype: 'int32', backend });
}

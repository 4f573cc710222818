/**
 * The CPU backend: buffers are typed arrays, kernels are plain TypeScript loops.
 */
import type { Backend, BackendMemory, Capabilities, View } from '../backend.js';
import type { DType, TypedArray } from '../dtype.js';
import { allocArray, DTYPES, itemSize } from '../dtype.js';
import { fail } from '../errors.js';
import { CPU_KERNELS } from './kernels.js';

/** A CPU kernel: reads `inputs`, writes the contiguous `outputs`. */
export type CpuKernel = (inputs: readonly View<TypedArray>[], outputs: readonly View<TypedArray>[], params: any) => void;

export class CpuBackend implements Backend<TypedArray> {
  readonly name = 'cpu';
  readonly capabilities: Capabilities = { dtypes: DTYPES, syncRead: true };
  #buffers = 0;
  #bytes = 0;

  allocate(dtype: DType, size: number): TypedArray {
    this.#buffers++;
    this.#bytes += size * itemSize(dtype);
    return allocArray(dtype, size);
  }

  write(storage: TypedArray, _dtype: DType, data: TypedArray): void {
    storage.set(data);
  }

  read(storage: TypedArray, dtype: DType): Promise<TypedArray> {
    return Promise.resolve(this.readSync(storage, dtype));
  }

  readSync(storage: TypedArray, _dtype: DType): TypedArray {
    return storage.slice();
  }

  free(storage: TypedArray): void {
    this.#buffers--;
    this.#bytes -= storage.byteLength;
  }

  hasKernel(op: string): boolean {
    return op in CPU_KERNELS;
  }

  run(op: string, inputs: readonly View<TypedArray>[], outputs: readonly View<TypedArray>[], params: object): void {
    const kernel = CPU_KERNELS[op];
    if (!kernel) fail(op, `backend "cpu" has no kernel for primitive "${op}"`);
    kernel(inputs, outputs, params);
  }

  memory(): BackendMemory {
    return { buffers: this.#buffers, bytes: this.#bytes };
  }
}

/** Creates a CPU backend. Tensors on different backend instances cannot be mixed. */
export function createCpuBackend(): CpuBackend {
  return new CpuBackend();
}

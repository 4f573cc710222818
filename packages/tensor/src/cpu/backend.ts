/**
 * The CPU backend: buffers are typed arrays, kernels are plain TypeScript loops.
 */
import type { Backend, BackendMemory, Capabilities, View } from '../backend.js';
import type { DType, TypedArray } from '../dtype.js';
import { allocArray, DTYPES, itemSize } from '../dtype.js';
import { fail } from '../errors.js';
import { CPU_KERNELS } from './kernels.js';
import { wasmKernels } from './wasm/kernels.js';
import type { WasmRuntime } from './wasm/runtime.js';

/** A CPU kernel: reads `inputs`, writes the contiguous `outputs`. */
export type CpuKernel = (inputs: readonly View<TypedArray>[], outputs: readonly View<TypedArray>[], params: any) => void;

/** Options of the CPU backend. */
export interface CpuBackendOptions {
  /**
   * Bytes of freed buffers kept for reuse (default 64 MiB; 0 disables). Reusing a buffer skips
   * the operating system's page faults on fresh memory, which dominate simple ops on large arrays.
   */
  poolBytes?: number;
  /**
   * A WebAssembly runtime ({@link loadWasmRuntime}): float32 matmul (hence conv and linear
   * layers) above a small size runs there, SIMD on all its threads; smaller ops and other
   * dtypes keep the TypeScript kernels.
   */
  wasm?: WasmRuntime;
}

/** Buffers smaller than this many elements are not pooled (allocating them is cheap). */
const MIN_POOLED = 4096;

export class CpuBackend implements Backend<TypedArray> {
  readonly name = 'cpu';
  readonly capabilities: Capabilities = { dtypes: DTYPES, syncRead: true };
  #buffers = 0;
  #bytes = 0;
  readonly #pool = new Map<string, TypedArray[]>();
  #pooledBytes = 0;
  readonly #poolLimit: number;
  readonly #kernels: Readonly<Record<string, CpuKernel>>;

  constructor(opts: CpuBackendOptions = {}) {
    this.#poolLimit = opts.poolBytes ?? 64 * 1024 * 1024;
    this.#kernels = opts.wasm ? { ...CPU_KERNELS, ...wasmKernels(opts.wasm) } : CPU_KERNELS;
  }

  allocate(dtype: DType, size: number): TypedArray {
    this.#buffers++;
    this.#bytes += size * itemSize(dtype);
    const reused = size >= MIN_POOLED ? this.#pool.get(poolKey(dtype === 'bool' ? 'uint8' : dtype, size))?.pop() : undefined;
    if (reused) {
      this.#pooledBytes -= reused.byteLength;
      return reused.fill(0);
    }
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
    if (storage.length < MIN_POOLED || this.#pooledBytes + storage.byteLength > this.#poolLimit) return;
    const key = poolKey(storedType(storage), storage.length);
    const list = this.#pool.get(key) ?? [];
    list.push(storage);
    this.#pool.set(key, list);
    this.#pooledBytes += storage.byteLength;
  }

  hasKernel(op: string): boolean {
    return op in this.#kernels;
  }

  run(op: string, inputs: readonly View<TypedArray>[], outputs: readonly View<TypedArray>[], params: object): void {
    const kernel = this.#kernels[op];
    if (!kernel) fail(op, `backend "cpu" has no kernel for primitive "${op}"`);
    kernel(inputs, outputs, params);
  }

  memory(): BackendMemory {
    return { buffers: this.#buffers, bytes: this.#bytes };
  }
}

/** Pooled buffers are keyed by array type and length (bool and uint8 share byte arrays). */
function poolKey(dtype: DType, size: number): string {
  return `${dtype}:${size}`;
}

function storedType(a: TypedArray): DType {
  return a instanceof Float32Array ? 'float32' : a instanceof Float64Array ? 'float64' : a instanceof Int32Array ? 'int32' : 'uint8';
}

/**
 * Creates a CPU backend. Tensors on different backend instances cannot be mixed.
 *
 * @example
 * const cpu = createCpuBackend();
 * const fast = createCpuBackend({ wasm: await loadWasmRuntime() }); // WebAssembly SIMD, all cores
 */
export function createCpuBackend(opts: CpuBackendOptions = {}): CpuBackend {
  return new CpuBackend(opts);
}

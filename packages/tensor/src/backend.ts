import type { DType, TypedArray } from './dtype.js';

/**
 * A strided window onto a backend buffer: what kernels receive for each input and output.
 * `offset` and `strides` count elements, not bytes. Outputs are always contiguous with offset 0.
 */
export interface View<S = unknown> {
  readonly storage: S;
  readonly dtype: DType;
  readonly shape: readonly number[];
  readonly strides: readonly number[];
  readonly offset: number;
}

/** What a backend can do, so callers can check before they run. */
export interface Capabilities {
  /** Dtypes this backend stores. Using another is an error, never a silent narrowing. */
  readonly dtypes: readonly DType[];
  /** Whether `readSync` is available (CPU: yes; GPU: no). */
  readonly syncRead: boolean;
}

/** Live allocations on a backend. */
export interface BackendMemory {
  /** Buffers currently allocated. */
  readonly buffers: number;
  /** Bytes currently allocated. */
  readonly bytes: number;
}

/**
 * The interface every backend implements. It is deliberately small: memory management plus
 * `run`, which executes one primitive (see `PRIMITIVES`) on strided views.
 *
 * A backend never checks shapes: the front end validates every op (see `PRIMITIVES`) before it
 * calls `run`, so all backends give the same errors.
 */
export interface Backend<S = unknown> {
  readonly name: string;
  readonly capabilities: Capabilities;
  /** Allocates a zero-filled buffer for `size` elements of `dtype`. */
  allocate(dtype: DType, size: number): S;
  /** Copies `data` (the dtype's typed array, length = buffer size) into the buffer. */
  write(storage: S, dtype: DType, data: TypedArray): void;
  /** Reads the whole buffer back. */
  read(storage: S, dtype: DType): Promise<TypedArray>;
  /** Reads synchronously where the backend can (CPU). */
  readSync?(storage: S, dtype: DType): TypedArray;
  /** Releases the buffer. */
  free(storage: S): void;
  /** Whether the backend has a kernel for primitive `op`. */
  hasKernel(op: string): boolean;
  /** Runs primitive `op`, writing into the freshly allocated contiguous `outputs`. */
  run(op: string, inputs: readonly View<S>[], outputs: readonly View<S>[], params: object): void;
  /** Live buffers and bytes. */
  memory(): BackendMemory;
}

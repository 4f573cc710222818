/**
 * The Tensor class: an n-d strided view onto a backend buffer. Every method delegates to the
 * function of the same name, so `a.matmul(b).add(c).relu()` and `relu(add(matmul(a, b), c))`
 * are the same program.
 */
import type { Backend } from './backend.js';
import type { DType, TypedArray } from './dtype.js';
import { countTensor, notifyDispose } from './engine.js';
import { fail, fmt } from './errors.js';
import * as ops from './ops/index.js';
import { readData, readDataSync, toNested } from './ops/read.js';
import type { IndexSpec } from './ops/shape.js';
import type { TensorOrScalar } from './ops/elementwise.js';
import { forgetTensor } from './scope.js';
import { isContiguous, sizeOf } from './shape.js';

/** A nested JS array of numbers or booleans, as returned by `array()`. */
export type NestedArray = number | boolean | NestedArray[];

/** @internal A backend buffer shared by a tensor and its views; freed when the last one is disposed. */
export class StorageRef {
  refs = 0;
  constructor(
    readonly backend: Backend,
    readonly storage: unknown,
    readonly dtype: DType,
    readonly bytes: number,
  ) {}
}

let nextId = 0;

export class Tensor {
  /** Unique, increasing id (useful for debugging and for autograd's bookkeeping). */
  readonly id = nextId++;
  readonly shape: readonly number[];
  /** Element strides into the buffer (may be 0 for broadcast dims, negative for flips). */
  readonly strides: readonly number[];
  /** Element offset into the buffer. */
  readonly offset: number;
  readonly dtype: DType;
  /** @internal */
  readonly ref: StorageRef;
  #disposed = false;
  /**
   * Whether gradients flow to this tensor in PyTorch-style training (`backward(loss)` fills
   * `grad`). Set it through @ml/autograd's `requiresGrad(t)`, which also starts recording.
   */
  requiresGrad = false;
  /** The gradient accumulated by @ml/autograd's `backward()`, or null. */
  grad: Tensor | null = null;
  /** @internal marks tensors for structure walks without importing this class. */
  readonly __isTensor = true;

  /** @internal Use `tensor()`, `zeros()`... to create tensors. */
  constructor(ref: StorageRef, shape: readonly number[], strides: readonly number[], offset: number) {
    this.ref = ref;
    this.dtype = ref.dtype;
    this.shape = Object.freeze([...shape]);
    this.strides = Object.freeze([...strides]);
    this.offset = offset;
    ref.refs++;
    countTensor(ref.backend, 1);
  }

  get backend(): Backend {
    return this.ref.backend;
  }

  /** @internal the backend buffer. */
  get storage(): unknown {
    this.#check('storage');
    return this.ref.storage;
  }

  /** Number of elements. */
  get size(): number {
    return sizeOf(this.shape);
  }

  /** Number of dimensions. */
  get rank(): number {
    return this.shape.length;
  }

  /** Same as `rank` (NumPy's name). */
  get ndim(): number {
    return this.shape.length;
  }

  get isDisposed(): boolean {
    return this.#disposed;
  }

  /** Whether the elements are laid out row-major without gaps. */
  get isContiguous(): boolean {
    return isContiguous(this.shape, this.strides);
  }

  #check(op: string): void {
    if (this.#disposed) fail(op, `tensor ${fmt(this.shape)} ${this.dtype} was disposed`);
  }

  /** Releases this tensor; the buffer is freed once no view uses it. Disposing twice is a no-op. */
  dispose(): void {
    if (this.#disposed) return;
    this.#disposed = true;
    forgetTensor(this);
    countTensor(this.ref.backend, -1);
    if (--this.ref.refs === 0) this.ref.backend.free(this.ref.storage);
    notifyDispose(this);
  }

  /**
   * Points this tensor at `source`'s buffer, which must have the same shape and dtype; the old
   * buffer is freed once nothing else uses it. Only for subclasses that model mutable state (@ml/nn's
   * `Parameter` and its buffer-holding siblings): views taken earlier, and values autograd saved, keep the old contents.
   */
  protected replaceStorage(op: string, source: Tensor): void {
    this.#check(op);
    if (source.isDisposed) fail(op, `the new value (shape ${fmt(source.shape)}) was disposed`);
    if (source.dtype !== this.dtype || source.shape.length !== this.shape.length || source.shape.some((d, i) => d !== this.shape[i])) {
      fail(op, `the new value must have shape ${fmt(this.shape)} and dtype ${this.dtype}, got shape ${fmt(source.shape)} and dtype ${source.dtype}`);
    }
    const next = source.ref;
    next.refs++;
    if (--this.ref.refs === 0) this.ref.backend.free(this.ref.storage);
    if (next.backend !== this.ref.backend) {
      countTensor(this.ref.backend, -1);
      countTensor(next.backend, 1);
    }
    const self = this as unknown as { ref: StorageRef; strides: readonly number[]; offset: number };
    self.ref = next;
    self.strides = source.strides;
    self.offset = source.offset;
  }

  [Symbol.dispose](): void {
    this.dispose();
  }

  /** The elements in row-major order, as a new typed array (bool → Uint8Array of 0/1). */
  async data(): Promise<TypedArray> {
    this.#check('data');
    return readData(this);
  }

  /** Like `data()` but synchronous; only on backends that can (the CPU backend). */
  dataSync(): TypedArray {
    this.#check('dataSync');
    return readDataSync(this);
  }

  /** The elements as nested JS arrays (a number or boolean for a 0-d tensor). */
  async array(): Promise<NestedArray> {
    return toNested(this, await this.data());
  }

  /** Like `array()` but synchronous (CPU backend only). */
  arraySync(): NestedArray {
    return toNested(this, this.dataSync());
  }

  /** The single element of a one-element tensor. */
  async item(): Promise<number> {
    if (this.size !== 1) fail('item', `expects one element, got shape ${fmt(this.shape)}`);
    return (await this.data())[0];
  }

  toString(): string {
    return `Tensor(shape=${fmt(this.shape)}, dtype=${this.dtype}, backend=${this.backend.name})`;
  }

  // ---- dtype and copies
  cast(dtype: DType): Tensor { return ops.cast(this, dtype); }
  clone(): Tensor { return ops.clone(this); }
  contiguous(): Tensor { return ops.contiguous(this); }

  // ---- unary elementwise
  neg(): Tensor { return ops.neg(this); }
  abs(): Tensor { return ops.abs(this); }
  sign(): Tensor { return ops.sign(this); }
  exp(): Tensor { return ops.exp(this); }
  log(): Tensor { return ops.log(this); }
  log1p(): Tensor { return ops.log1p(this); }
  expm1(): Tensor { return ops.expm1(this); }
  sqrt(): Tensor { return ops.sqrt(this); }
  rsqrt(): Tensor { return ops.rsqrt(this); }
  square(): Tensor { return ops.square(this); }
  reciprocal(): Tensor { return ops.reciprocal(this); }
  sin(): Tensor { return ops.sin(this); }
  cos(): Tensor { return ops.cos(this); }
  tanh(): Tensor { return ops.tanh(this); }
  sigmoid(): Tensor { return ops.sigmoid(this); }
  relu(): Tensor { return ops.relu(this); }
  leakyRelu(slope = 0.01): Tensor { return ops.leakyRelu(this, slope); }
  gelu(approximate: 'none' | 'tanh' = 'none'): Tensor { return ops.gelu(this, approximate); }
  softplus(): Tensor { return ops.softplus(this); }
  erf(): Tensor { return ops.erf(this); }
  erfinv(): Tensor { return ops.erfinv(this); }
  floor(): Tensor { return ops.floor(this); }
  ceil(): Tensor { return ops.ceil(this); }
  round(): Tensor { return ops.round(this); }
  clip(min: number | null, max: number | null): Tensor { return ops.clip(this, min, max); }
  isNaN(): Tensor { return ops.isNaN(this); }
  isFinite(): Tensor { return ops.isFinite(this); }
  logicalNot(): Tensor { return ops.logicalNot(this); }

  // ---- binary elementwise (NumPy broadcasting)
  add(other: TensorOrScalar): Tensor { return ops.add(this, other); }
  sub(other: TensorOrScalar): Tensor { return ops.sub(this, other); }
  mul(other: TensorOrScalar): Tensor { return ops.mul(this, other); }
  div(other: TensorOrScalar): Tensor { return ops.div(this, other); }
  pow(other: TensorOrScalar): Tensor { return ops.pow(this, other); }
  maximum(other: TensorOrScalar): Tensor { return ops.maximum(this, other); }
  minimum(other: TensorOrScalar): Tensor { return ops.minimum(this, other); }
  mod(other: TensorOrScalar): Tensor { return ops.mod(this, other); }
  eq(other: TensorOrScalar): Tensor { return ops.eq(this, other); }
  ne(other: TensorOrScalar): Tensor { return ops.ne(this, other); }
  lt(other: TensorOrScalar): Tensor { return ops.lt(this, other); }
  le(other: TensorOrScalar): Tensor { return ops.le(this, other); }
  gt(other: TensorOrScalar): Tensor { return ops.gt(this, other); }
  ge(other: TensorOrScalar): Tensor { return ops.ge(this, other); }
  logicalAnd(other: TensorOrScalar): Tensor { return ops.logicalAnd(this, other); }
  logicalOr(other: TensorOrScalar): Tensor { return ops.logicalOr(this, other); }
  logicalXor(other: TensorOrScalar): Tensor { return ops.logicalXor(this, other); }
  /** `where(condition, this, other)`. */
  where(condition: Tensor, other: TensorOrScalar): Tensor { return ops.where(condition, this, other); }

  // ---- reductions
  sum(axis?: number | number[], keepdims = false): Tensor { return ops.sum(this, axis, keepdims); }
  mean(axis?: number | number[], keepdims = false): Tensor { return ops.mean(this, axis, keepdims); }
  prod(axis?: number | number[], keepdims = false): Tensor { return ops.prod(this, axis, keepdims); }
  max(axis?: number | number[], keepdims = false): Tensor { return ops.max(this, axis, keepdims); }
  min(axis?: number | number[], keepdims = false): Tensor { return ops.min(this, axis, keepdims); }
  argmax(axis?: number, keepdims = false): Tensor { return ops.argmax(this, axis, keepdims); }
  argmin(axis?: number, keepdims = false): Tensor { return ops.argmin(this, axis, keepdims); }
  var(axis?: number | number[], keepdims = false, correction = 1): Tensor { return ops.variance(this, axis, keepdims, correction); }
  std(axis?: number | number[], keepdims = false, correction = 1): Tensor { return ops.std(this, axis, keepdims, correction); }
  logsumexp(axis?: number | number[], keepdims = false): Tensor { return ops.logsumexp(this, axis, keepdims); }
  all(axis?: number | number[], keepdims = false): Tensor { return ops.all(this, axis, keepdims); }
  any(axis?: number | number[], keepdims = false): Tensor { return ops.any(this, axis, keepdims); }
  cumsum(axis: number): Tensor { return ops.cumsum(this, axis); }
  sort(axis = -1, descending = false): Tensor { return ops.sort(this, axis, descending); }
  argsort(axis = -1, descending = false): Tensor { return ops.argsort(this, axis, descending); }
  topk(k: number, axis = -1, largest = true): { values: Tensor; indices: Tensor } { return ops.topk(this, k, axis, largest); }
  softmax(axis = -1): Tensor { return ops.softmax(this, axis); }
  logSoftmax(axis = -1): Tensor { return ops.logSoftmax(this, axis); }

  // ---- shapes and views
  reshape(shape: readonly number[]): Tensor { return ops.reshape(this, shape); }
  permute(axes: readonly number[]): Tensor { return ops.permute(this, axes); }
  transpose(dim0 = -2, dim1 = -1): Tensor { return ops.transpose(this, dim0, dim1); }
  expand(shape: readonly number[]): Tensor { return ops.expand(this, shape); }
  broadcastTo(shape: readonly number[]): Tensor { return ops.broadcastTo(this, shape); }
  squeeze(axis?: number | number[]): Tensor { return ops.squeeze(this, axis); }
  unsqueeze(axis: number): Tensor { return ops.unsqueeze(this, axis); }
  flatten(startDim = 0, endDim = -1): Tensor { return ops.flatten(this, startDim, endDim); }
  flip(axis?: number | number[]): Tensor { return ops.flip(this, axis); }
  slice(index: string | readonly IndexSpec[]): Tensor { return ops.slice(this, index); }
  split(sizes: number | readonly number[], axis = 0): Tensor[] { return ops.split(this, sizes, axis); }
  chunk(chunks: number, axis = 0): Tensor[] { return ops.chunk(this, chunks, axis); }
  pad(pads: readonly (readonly [number, number])[], value = 0): Tensor { return ops.pad(this, pads, value); }

  // ---- indexing
  gather(axis: number, index: Tensor): Tensor { return ops.gather(this, axis, index); }
  indexSelect(axis: number, index: Tensor | readonly number[]): Tensor { return ops.indexSelect(this, axis, index); }
  scatterAdd(axis: number, index: Tensor, src: Tensor): Tensor { return ops.scatterAdd(this, axis, index, src); }
  tril(k = 0): Tensor { return ops.tril(this, k); }
  triu(k = 0): Tensor { return ops.triu(this, k); }

  // ---- linear algebra
  matmul(other: Tensor): Tensor { return ops.matmul(this, other); }
  dot(other: Tensor): Tensor { return ops.dot(this, other); }
  outer(other: Tensor): Tensor { return ops.outer(this, other); }
}

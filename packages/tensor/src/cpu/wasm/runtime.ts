/**
 * The WebAssembly runtime of the CPU backend: the kernels compiled from wasm/*.c (SIMD128), one
 * shared linear memory, and a pool of threads working on it (see pool.ts).
 *
 * Operands are copied into the linear memory, computed there and copied back: for matmul and
 * conv2d the copies are small next to the work; for exp, log, tanh, sigmoid and softmax the SIMD
 * polynomials are ~10× cheaper than Math.exp and friends, copies included; sum and max read
 * each element once, as fast as the copy. Only float32 runs here; everything else (and
 * memory-bound elementwise ops such as add, where the copies would cost as much as the op)
 * stays on the TypeScript kernels.
 */
import type { View } from '../../backend.js';
import type { TypedArray } from '../../dtype.js';
import type { AdamStepParams, Conv2dParams } from '../../primitives.js';
import { dense } from '../strided.js';
import { WASM_MAX_PAGES, WASM_SHARED_BASE64, WASM_SINGLE_BASE64 } from './binary.generated.js';
import { CLAIM, CTRL_BYTES, detectPlatform, DONE, drain, GEN, JOB, type PoolWorker, startWorker, STOP, waitReady } from './pool.js';

/** Options of {@link loadWasmRuntime}. */
export interface WasmRuntimeOptions {
  /**
   * Threads that share a large matmul, the calling thread included (default: the machine's
   * cores). Where the calling thread cannot block (a browser page's main thread, or a page that
   * is not cross-origin isolated) it is always 1. Results do not depend on it.
   */
  threads?: number;
  /**
   * Multiply-adds (batch · m · n · k) from which a float32 matmul runs here rather than in the
   * TypeScript kernel (default 4096: below ~16³ the copies in and out of the linear memory cost
   * about as much as the whole product). 0 sends every float32 matmul here (tests do).
   */
  matmulMinWork?: number;
  /**
   * Elements from which exp, log, tanh, sigmoid, sum, max, softmax, logSoftmax and adamStep of float32 run here (default 8192:
   * below it the copies into and out of the linear memory cost more than the TypeScript loop).
   * 0 sends every one here (tests do).
   */
  minElements?: number;
}

interface Exports {
  __heap_base: WebAssembly.Global;
  job_items(job: number): number;
  scratch_size(): number;
  work_item(job: number, item: number, scratch: number): void;
  pad_planes(src: number, dst: number, planes: number, h: number, w: number, ph: number, pw: number): void;
  reduce_finish(job: number): void;
}

/** Elementwise functions of the WebAssembly path (see wasm/elementwise.c). */
export const WASM_UNARY = { exp: 1, log: 2, tanh: 3, sigmoid: 4 } as const;
/** Reductions of the WebAssembly path (see wasm/reduce.c). */
export const WASM_REDUCE = { sum: 1, max: 2 } as const;

/** Job kinds: the first field of a job descriptor (see wasm/gemm.h). */
const JOB_GEMM = 1;
const JOB_CONV2D = 2;
const JOB_UNARY = 3;
const JOB_REDUCE = 4;
const JOB_SOFTMAX = 5;
const JOB_ADAM = 6;
/** Bytes reserved for a job descriptor. */
const JOB_BYTES = 128;

const PAGE = 65536;
const STACK_BYTES = 65536;
/** Below this many multiply-adds a matmul runs on the calling thread alone. */
const POOL_MIN_WORK = 1 << 18;

const align = (x: number, to = 64): number => Math.ceil(x / to) * to;

const compiled = new Map<boolean, Promise<WebAssembly.Module>>();

/** The module for a shared memory (threads) or a plain one, compiled once. */
function compile(shared: boolean): Promise<WebAssembly.Module> {
  let m = compiled.get(shared);
  if (!m) {
    const bin = atob(shared ? WASM_SHARED_BASE64 : WASM_SINGLE_BASE64);
    const bytes = new Uint8Array(bin.length);
    for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
    m = WebAssembly.compile(bytes);
    compiled.set(shared, m);
  }
  return m;
}

/** The compiled kernels, their memory and their threads. Create with {@link loadWasmRuntime}. */
export class WasmRuntime {
  /** Threads that share a job, the calling one included. */
  readonly threads: number;
  /** See {@link WasmRuntimeOptions.matmulMinWork}. */
  readonly matmulMinWork: number;
  /** See {@link WasmRuntimeOptions.minElements}. */
  readonly minElements: number;
  readonly #memory: WebAssembly.Memory;
  readonly #x: Exports;
  #ctrl: Int32Array;
  readonly #job: number;
  readonly #scratch: number;
  readonly #workBase: number;
  readonly #workers: PoolWorker[];
  #f32: Float32Array;

  /** @hidden made by {@link loadWasmRuntime} */
  constructor(memory: WebAssembly.Memory, x: Exports, layout: { ctrl: number; job: number; scratch: number; workBase: number }, threads: number, workers: PoolWorker[], thresholds: { matmulMinWork: number; minElements: number }) {
    this.matmulMinWork = thresholds.matmulMinWork;
    this.minElements = thresholds.minElements;
    this.#memory = memory;
    this.#x = x;
    this.#ctrl = new Int32Array(memory.buffer, layout.ctrl, CTRL_BYTES / 4);
    this.#job = layout.job;
    this.#scratch = layout.scratch;
    this.#workBase = layout.workBase;
    this.threads = threads;
    this.#workers = workers;
    this.#f32 = new Float32Array(memory.buffer);
  }

  /** Makes the work area at least `bytes` long; false if the memory cannot grow that far. */
  #reserve(bytes: number): boolean {
    const need = this.#workBase + bytes;
    const have = this.#memory.buffer.byteLength;
    if (need > have) {
      const pages = Math.ceil((need - have) / PAGE);
      if (have / PAGE + pages > WASM_MAX_PAGES) return false;
      this.#memory.grow(pages);
    }
    if (this.#f32.buffer !== this.#memory.buffer) {
      // growing an unshared memory detaches its old buffer: views must be made again
      this.#f32 = new Float32Array(this.#memory.buffer);
      this.#ctrl = new Int32Array(this.#memory.buffer, this.#ctrl.byteOffset, CTRL_BYTES / 4);
    }
    return true;
  }

  /**
   * out = a · b for float32 views a (…, m, k), b (…, k, n) with equal batch shapes (strided,
   * batch strides may be 0) into the contiguous `out` (…, m, n). False (nothing written) if the
   * operands do not fit in the linear memory.
   */
  matmul(a: View<TypedArray>, b: View<TypedArray>, out: Float32Array): boolean {
    const rank = a.shape.length;
    const [m, k] = a.shape.slice(-2);
    const n = b.shape[rank - 1];
    const batchShape = a.shape.slice(0, -2);
    const aOffs = batchOffsets(a, batchShape);
    const bOffs = batchOffsets(b, batchShape);
    const batches = aOffs.length;
    const aShared = aOffs.every((o) => o === aOffs[0]);
    const bShared = bOffs.every((o) => o === bOffs[0]);
    const aCount = aShared ? 1 : batches;
    const bCount = bShared ? 1 : batches;
    // work area: A copies | B copies | C (the threads pack blocks of A and B in their scratch)
    const aBytes = align(aCount * m * k * 4);
    const bBytes = align(bCount * k * n * 4);
    const cBytes = align(batches * m * n * 4);
    if (!this.#reserve(aBytes + bBytes + cBytes)) return false;
    const aPtr = this.#workBase;
    const bPtr = aPtr + aBytes;
    const cPtr = bPtr + bBytes;
    const f32 = this.#f32;
    // a transposed view (column stride ≠ 1, row stride 1) is copied as stored, rows of its
    // transpose, and the kernel packs it transposed: no element-by-element copy here
    const aT = a.strides[rank - 1] !== 1 && a.strides[rank - 2] === 1 && m > 1;
    const bT = b.strides[rank - 1] !== 1 && b.strides[rank - 2] === 1 && n > 1;
    for (let i = 0; i < aCount; i++) {
      const at = aPtr / 4 + i * m * k;
      if (aT) copyMatrix(a.storage, aOffs[i], a.strides[rank - 1], 1, k, m, f32, at);
      else copyMatrix(a.storage, aOffs[i], a.strides[rank - 2], a.strides[rank - 1], m, k, f32, at);
    }
    for (let i = 0; i < bCount; i++) {
      const at = bPtr / 4 + i * k * n;
      if (bT) copyMatrix(b.storage, bOffs[i], b.strides[rank - 1], 1, n, k, f32, at);
      else copyMatrix(b.storage, bOffs[i], b.strides[rank - 2], b.strides[rank - 1], k, n, f32, at);
    }
    // the job descriptor: see `Job` in wasm/sgemm.c
    const job = new Uint32Array(this.#memory.buffer, this.#job, 14);
    job.set([JOB_GEMM, m, n, k, batches, aPtr, aT ? m : k, aShared ? 0 : m * k, bPtr, bT ? k : n, bShared ? 0 : k * n, cPtr, aT ? 1 : 0, bT ? 1 : 0]);
    this.#run(this.#x.job_items(this.#job), batches * m * n * k);
    out.set(this.#f32.subarray(cPtr / 4, cPtr / 4 + batches * m * n));
    return true;
  }

  /**
   * out = conv2d(x, w) for float32 views x (N, C, H, W) and w (O, C, kh, kw) (any strides) into
   * the contiguous `out` (N, O, oh, ow): groups 1, zero padding. False (nothing written) if the
   * operands do not fit in the linear memory.
   */
  conv2d(x: View<TypedArray>, w: View<TypedArray>, out: Float32Array, p: Conv2dParams): boolean {
    const [n, c, h, wd] = x.shape;
    const [o, , kh, kw] = w.shape;
    const oh = Math.floor((h + 2 * p.padding[0] - p.dilation[0] * (kh - 1) - 1) / p.stride[0]) + 1;
    const ow = Math.floor((wd + 2 * p.padding[1] - p.dilation[1] * (kw - 1) - 1) / p.stride[1]) + 1;
    // With padding, the image is first padded with zeros in the linear memory, so that the
    // packing reads whole rows without bounds checks: the job then sees no padding.
    const [ph, pw] = p.padding;
    const hp = h + 2 * ph;
    const wp = wd + 2 * pw;
    const padded = ph > 0 || pw > 0;
    // work area: image as given | padded image | filters | output
    const rawBytes = align(n * c * h * wd * 4);
    const xBytes = padded ? align(n * c * hp * wp * 4) : 0;
    const wBytes = align(o * c * kh * kw * 4);
    if (!this.#reserve(rawBytes + xBytes + wBytes + align(n * o * oh * ow * 4))) return false;
    const rawPtr = this.#workBase;
    const xPtr = padded ? rawPtr + rawBytes : rawPtr;
    const wPtr = rawPtr + rawBytes + xBytes;
    const outPtr = wPtr + wBytes;
    this.#f32.set(dense(x), rawPtr / 4);
    if (padded) this.#x.pad_planes(rawPtr, xPtr, n * c, h, wd, ph, pw);
    this.#f32.set(dense(w), wPtr / 4);
    // the job descriptor: see `ConvJob` in wasm/conv.c
    const job = new Uint32Array(this.#memory.buffer, this.#job, 19);
    job.set([JOB_CONV2D, n, c, hp, wp, o, kh, kw, oh, ow, ...p.stride, 0, 0, ...p.dilation, xPtr, wPtr, outPtr]);
    this.#run(this.#x.job_items(this.#job), n * o * oh * ow * c * kh * kw);
    out.set(this.#f32.subarray(outPtr / 4, outPtr / 4 + n * o * oh * ow));
    return true;
  }

  /**
   * out = f(x) elementwise for a float32 view x (any strides) and f one of exp, log, tanh, sigmoid.
   * False (nothing written) if x does not fit in the linear memory.
   */
  unary(op: keyof typeof WASM_UNARY, x: View<TypedArray>, out: Float32Array): boolean {
    const n = out.length;
    const bytes = align(n * 4);
    if (!this.#reserve(2 * bytes)) return false;
    const xPtr = this.#workBase;
    const yPtr = xPtr + bytes;
    this.#f32.set(dense(x), xPtr / 4);
    // the job descriptor: see `UnaryJob` in wasm/elementwise.c
    new Uint32Array(this.#memory.buffer, this.#job, 5).set([JOB_UNARY, WASM_UNARY[op], n, xPtr, yPtr]);
    this.#run(this.#x.job_items(this.#job), n * 16);
    out.set(this.#f32.subarray(yPtr / 4, yPtr / 4 + n));
    return true;
  }

  /**
   * out[i] = op(x[i, :]) for x (rows, r) given as a dense float32 array, r ≥ 1 (a full
   * reduction is one row). Sums accumulate in double. False if x does not fit.
   */
  reduceRows(op: keyof typeof WASM_REDUCE, x: TypedArray, rows: number, r: number, out: Float32Array): boolean {
    const segs = Math.ceil(r / 65536); // SEG in wasm/reduce.c
    const xBytes = align(rows * r * 4);
    const yBytes = align(rows * 4);
    if (!this.#reserve(xBytes + yBytes + align(rows * segs * 8))) return false;
    const xPtr = this.#workBase;
    const yPtr = xPtr + xBytes;
    const partPtr = yPtr + yBytes;
    this.#f32.set(x, xPtr / 4);
    // the job descriptor: see `ReduceJob` in wasm/reduce.c
    new Uint32Array(this.#memory.buffer, this.#job, 7).set([JOB_REDUCE, WASM_REDUCE[op], rows, r, xPtr, yPtr, partPtr]);
    this.#run(this.#x.job_items(this.#job), rows * r);
    this.#x.reduce_finish(this.#job);
    out.set(this.#f32.subarray(yPtr / 4, yPtr / 4 + rows));
    return true;
  }

  /**
   * Softmax (or log-softmax) of each row of x (rows, r), given as a dense float32 array, r ≥ 1.
   * False (nothing written) if x does not fit.
   */
  softmaxRows(log: boolean, x: TypedArray, rows: number, r: number, out: Float32Array): boolean {
    const bytes = align(rows * r * 4);
    if (!this.#reserve(2 * bytes)) return false;
    const xPtr = this.#workBase;
    const yPtr = xPtr + bytes;
    this.#f32.set(x, xPtr / 4);
    // the job descriptor: see `SoftmaxJob` in wasm/elementwise.c
    new Uint32Array(this.#memory.buffer, this.#job, 6).set([JOB_SOFTMAX, log ? 1 : 0, rows, r, xPtr, yPtr]);
    this.#run(this.#x.job_items(this.#job), rows * r * 16);
    out.set(this.#f32.subarray(yPtr / 4, yPtr / 4 + rows * r));
    return true;
  }

  /**
   * The fused Adam update (the `adamStep` primitive) for float32 views of one shape: inputs
   * (param, grad, m, v[, vMax]), outputs (param', m', v'[, vMax']). False if they do not fit.
   */
  adamStep(inputs: readonly View<TypedArray>[], outputs: readonly Float32Array[], p: AdamStepParams): boolean {
    const n = outputs[0].length;
    const bytes = align(n * 4);
    const arrays = inputs.length + outputs.length;
    if (!this.#reserve(arrays * bytes)) return false;
    const ptrs = Array.from({ length: 9 }, (_, i) => (i < inputs.length ? this.#workBase + i * bytes : 0));
    for (let i = 0; i < outputs.length; i++) ptrs[5 + i] = this.#workBase + (inputs.length + i) * bytes;
    inputs.forEach((v, i) => this.#f32.set(dense(v), ptrs[i] / 4));
    // the job descriptor: see `AdamJob` in wasm/optim.c (three words, nine pointers, five floats)
    new Uint32Array(this.#memory.buffer, this.#job, 12).set([JOB_ADAM, n, inputs.length === 5 ? 1 : 0, ...ptrs]);
    new Float32Array(this.#memory.buffer, this.#job + 12 * 4, 5).set([p.beta1, p.beta2, p.eps, p.stepSize, p.vScale]);
    this.#run(this.#x.job_items(this.#job), n * 8);
    outputs.forEach((o, i) => o.set(this.#f32.subarray(ptrs[5 + i] / 4, ptrs[5 + i] / 4 + n)));
    return true;
  }

  /** Runs the `items` work items of the job at #job on every thread, and waits for them. */
  #run(items: number, work: number): void {
    const s = this.#ctrl;
    Atomics.store(s, DONE, 0);
    Atomics.store(s, JOB, this.#job);
    Atomics.store(s, CLAIM, items);
    const pooled = this.#workers.length > 0 && items > 1 && work >= POOL_MIN_WORK;
    if (pooled) {
      Atomics.add(s, GEN, 1);
      Atomics.notify(s, GEN);
    }
    drain(s, (job, item, scratch) => this.#x.work_item(job, item, scratch), this.#scratch);
    for (let d = Atomics.load(s, DONE); d < items; d = Atomics.load(s, DONE)) Atomics.wait(s, DONE, d);
  }

  /** Stops the worker threads; the runtime then computes on the calling thread only. */
  dispose(): void {
    Atomics.store(this.#ctrl, STOP, 1);
    Atomics.add(this.#ctrl, GEN, 1);
    Atomics.notify(this.#ctrl, GEN);
    for (const w of this.#workers.splice(0)) void w.terminate();
  }
}

/** Offsets of every batch entry of a view (batch dims are all but the last two). */
function batchOffsets(v: View<TypedArray>, batchShape: readonly number[]): number[] {
  let offs = [v.offset];
  for (let d = 0; d < batchShape.length; d++) {
    const next: number[] = [];
    for (const o of offs) for (let i = 0; i < batchShape[d]; i++) next.push(o + i * v.strides[d]);
    offs = next;
  }
  return offs;
}

/** Copies the strided (rows, cols) matrix at `off` into `dst` at `at`, row-major. */
function copyMatrix(src: TypedArray, off: number, rs: number, cs: number, rows: number, cols: number, dst: Float32Array, at: number): void {
  if (cs === 1 && (rs === cols || rows === 1)) {
    dst.set(src.subarray(off, off + rows * cols), at);
  } else if (cs === 1) {
    for (let r = 0; r < rows; r++) dst.set(src.subarray(off + r * rs, off + r * rs + cols), at + r * cols);
  } else {
    for (let r = 0; r < rows; r++) {
      const row = at + r * cols;
      for (let c = 0, i = off + r * rs; c < cols; c++, i += cs) dst[row + c] = src[i];
    }
  }
}

/**
 * Compiles the WebAssembly kernels and starts the worker threads. One runtime can serve many
 * backends (`createCpuBackend({ wasm: runtime })`); calls are synchronous.
 *
 * @example
 * const wasm = await loadWasmRuntime({ threads: 2 });
 * const backend = createCpuBackend({ wasm });
 */
export async function loadWasmRuntime(opts: WasmRuntimeOptions = {}): Promise<WasmRuntime> {
  if (opts.threads !== undefined && !(Number.isInteger(opts.threads) && opts.threads >= 1)) {
    throw new RangeError(`loadWasmRuntime: threads must be a positive integer, got ${opts.threads}`);
  }
  if (opts.matmulMinWork !== undefined && !(opts.matmulMinWork >= 0)) {
    throw new RangeError(`loadWasmRuntime: matmulMinWork must be a number >= 0, got ${opts.matmulMinWork}`);
  }
  if (opts.minElements !== undefined && !(opts.minElements >= 0)) {
    throw new RangeError(`loadWasmRuntime: minElements must be a number >= 0, got ${opts.minElements}`);
  }
  const platform = await detectPlatform();
  // without SharedArrayBuffer (a page that is not cross-origin isolated) memory cannot be shared
  const shared = typeof SharedArrayBuffer !== 'undefined';
  const threads = platform.canBlock && shared ? (opts.threads ?? platform.cores) : 1;
  const module = await compile(shared);
  const memory = new WebAssembly.Memory({ initial: 64, maximum: WASM_MAX_PAGES, shared });
  const x = (await WebAssembly.instantiate(module, { env: { memory } })).exports as unknown as Exports;
  // layout after the module's own stack: control block, job, per-thread stacks and scratch
  const scratchBytes = align(x.scratch_size() * 4);
  const ctrl = align(x.__heap_base.value as number);
  const job = ctrl + CTRL_BYTES;
  const stacks = align(job + JOB_BYTES);
  const scratches = stacks + (threads - 1) * STACK_BYTES;
  const workBase = align(scratches + threads * scratchBytes);
  const need = Math.ceil(workBase / PAGE) + 1;
  if (need > 64) memory.grow(need - 64);
  const workers: PoolWorker[] = [];
  let failure: unknown = null;
  const onError = (e: unknown) => (failure ??= e);
  try {
    for (let t = 1; t < threads; t++) {
      workers.push(await startWorker(platform, { memory, module, ctrl, stackTop: stacks + t * STACK_BYTES, scratch: scratches + t * scratchBytes }, onError));
    }
    await waitReady(new Int32Array(memory.buffer, ctrl, CTRL_BYTES / 4), threads - 1, () => failure);
  } catch (e) {
    for (const w of workers) void w.terminate();
    const why = e instanceof Error ? e.message : String(e);
    throw new Error(`loadWasmRuntime: could not start ${threads - 1} worker thread(s): ${why}. Pass { threads: 1 } to compute on the calling thread only.`);
  }
  return new WasmRuntime(memory, x, { ctrl, job, scratch: scratches, workBase }, threads, workers, {
    matmulMinWork: opts.matmulMinWork ?? 4096,
    minElements: opts.minElements ?? 8192,
  });
}

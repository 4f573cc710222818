/**
 * The WebGPU backend: buffers live on the GPU, every primitive is a WGSL compute kernel, work is
 * encoded into command buffers and submitted in batches, and only `read` waits for the GPU.
 */
import type { Backend, BackendMemory, Capabilities, DType, TypedArray, View } from '@ml/tensor';
import { acquireDevice } from './device.js';
import type { WebGPUOptions } from './device.js';
import { GPU_KERNELS } from './kernels/index.js';
import { beginIndexCheck } from './kernels/movement.js';
import { ParamArena } from './params.js';
import { StagingPool } from './staging.js';
import { storageType } from './wgsl.js';

/** A GPU buffer holding `size` elements (bool and uint8 take one u32 each). */
export interface GpuStorage {
  readonly buffer: GPUBuffer;
  readonly size: number;
  readonly bytes: number;
}

export type GpuView = View<GpuStorage>;

/** A WGSL kernel launcher for one primitive. */
export type GpuKernel = (gpu: WebGPUBackend, inputs: readonly GpuView[], outputs: readonly GpuView[], params: any) => void;

/** One compute dispatch. */
export interface Dispatch {
  /** The primitive it implements (named in compile errors). */
  op: string;
  /** Caches the pipeline: equal keys must mean equal code. */
  key: string;
  /** The WGSL source (called once per key). */
  code: () => string;
  /** Storage buffers in binding order: read-only inputs first, then read-write outputs. */
  inputs: readonly GpuStorage[];
  outputs: readonly GpuStorage[];
  /** i32 values bound after the outputs as `info: array<i32>` (shapes, strides, sizes). */
  meta?: readonly number[];
  /** Workgroups to launch: [x, y, z]; see `workgroupsFor`. */
  workgroups: readonly [number, number, number];
}

const MAX_WORKGROUPS = 65535;
/** Dispatches encoded before the command buffer is submitted. */
const BATCH = 64;

/** Workgroups for `threads` threads of `size` each, folded into 2-D past the 65535 limit. */
export function workgroupsFor(threads: number, size = 64): [number, number, number] {
  const groups = Math.max(1, Math.ceil(threads / size));
  const x = Math.min(groups, MAX_WORKGROUPS);
  return [x, Math.ceil(groups / x), 1];
}

export class WebGPUBackend implements Backend<GpuStorage> {
  readonly name = 'webgpu';
  readonly capabilities: Capabilities = { dtypes: ['float32', 'int32', 'uint8', 'bool'], syncRead: false };
  readonly #pipelines = new Map<string, { pipeline: GPUComputePipeline; layout: GPUBindGroupLayout }>();
  /** The `info` words of the dispatches encoded since the last submit. */
  readonly #params: ParamArena;
  /** MAP_READ buffers for reads, reused. */
  readonly #staging: StagingPool;
  /** Freed buffers by byte size, cleared to zeros and ready to hand out. */
  readonly #pool = new Map<number, GPUBuffer[]>();
  /** Freed buffers by byte size not yet cleared: the next submit clears them (or `allocate`, if it needs one first). */
  readonly #dirty = new Map<number, GPUBuffer[]>();
  #pooledBytes = 0;
  #buffers = 0;
  #bytes = 0;
  #encoder: GPUCommandEncoder | null = null;
  /** The compute pass consecutive dispatches share (ended before anything else is encoded). */
  #pass: GPUComputePassEncoder | null = null;
  #encoded = 0;
  #transient: GPUBuffer[] = [];
  #error: Error | null = null;
  /** Whether #error is a validation error outside an error scope (a compile error explains it better). */
  #uncaptured = false;
  /** The error scope of the newest pipeline (scopes settle in order). */
  #lastScope: Promise<unknown> = Promise.resolve();

  constructor(
    readonly device: GPUDevice,
    /** The adapter's name, as the driver reports it. */
    readonly adapterName: string,
    private readonly owned: boolean,
    private readonly poolLimit = 256 * 1024 * 1024,
  ) {
    this.#params = new ParamArena(device);
    this.#staging = new StagingPool(device);
    device.lost.then((info) => {
      this.#error ??= new Error(`webgpu: the GPU device was lost (${info.reason}): ${info.message}`);
    });
    // a validation error outside an error scope would otherwise leave its command buffer unrun and
    // the tensors it should have written reading as zeros: keep it for the next op or read
    device.addEventListener?.('uncapturederror', (e) => {
      if (this.#error) return;
      this.#error = new Error(`webgpu: ${(e as GPUUncapturedErrorEvent).error.message}`);
      this.#uncaptured = true;
    });
  }

  /** Throws the first asynchronous failure (device loss, a kernel that failed to compile, a validation error). */
  #check(): void {
    if (this.#error) throw this.#error;
  }

  allocate(_dtype: DType, size: number): GpuStorage {
    this.#check();
    const bytes = Math.max(4, size * 4);
    const limit = Math.min(this.device.limits.maxBufferSize, this.device.limits.maxStorageBufferBindingSize);
    if (bytes > limit) {
      throw new Error(
        `webgpu: a tensor of ${size} elements needs a buffer of ${bytes} bytes, more than this device allows (${limit} bytes: maxStorageBufferBindingSize)`,
      );
    }
    this.#buffers++;
    this.#bytes += bytes;
    // allocate promises zeros: a cleared buffer, else one cleared now (which ends the compute pass)
    let pooled = this.#pool.get(bytes)?.pop();
    if (!pooled) {
      pooled = this.#dirty.get(bytes)?.pop();
      if (pooled) this.encoder().clearBuffer(pooled);
    }
    if (pooled) {
      this.#pooledBytes -= bytes;
      return { buffer: pooled, size, bytes };
    }
    const buffer = this.device.createBuffer({
      size: bytes,
      usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST,
    });
    return { buffer, size, bytes };
  }

  write(storage: GpuStorage, dtype: DType, data: TypedArray): void {
    this.#check();
    this.flush(); // earlier kernels may still read this buffer's previous contents
    const words = storageType(dtype) === 'u32' ? Uint32Array.from(data) : data;
    this.device.queue.writeBuffer(storage.buffer, 0, words.buffer, words.byteOffset, words.byteLength);
  }

  async read(storage: GpuStorage, dtype: DType): Promise<TypedArray> {
    if (this.#uncaptured) await this.#lastScope; // the compile error behind it, if that is what it was
    this.#check();
    // index errors recorded by gather/scatterAdd come back with the same submit and are raised here
    const indexCheck = beginIndexCheck(this);
    const staging = this.#staging.acquire(storage.bytes);
    this.encoder().copyBufferToBuffer(storage.buffer, 0, staging, 0, storage.bytes);
    this.flush();
    try {
      await staging.mapAsync(GPUMapMode.READ, 0, storage.bytes);
    } catch (e) {
      this.#staging.discard(staging);
      this.#check();
      throw new Error(`webgpu: reading a buffer failed: ${(e as Error).message}`);
    }
    const raw = staging.getMappedRange(0, storage.bytes).slice(0, storage.size * 4);
    staging.unmap();
    this.#staging.release(staging);
    this.#check();
    await indexCheck?.();
    switch (dtype) {
      case 'float32':
        return new Float32Array(raw);
      case 'int32':
        return new Int32Array(raw);
      default:
        return Uint8Array.from(new Uint32Array(raw));
    }
  }

  free(storage: GpuStorage): void {
    this.#buffers--;
    this.#bytes -= storage.bytes;
    if (this.#pooledBytes + storage.bytes > this.poolLimit) {
      this.#transient.push(storage.buffer); // destroyed after the work that may use it is submitted
      return;
    }
    // kernels encoded earlier may still read it: it is cleared after them, at the next submit
    const list = this.#dirty.get(storage.bytes);
    if (list) list.push(storage.buffer);
    else this.#dirty.set(storage.bytes, [storage.buffer]);
    this.#pooledBytes += storage.bytes;
  }

  hasKernel(op: string): boolean {
    return op in GPU_KERNELS;
  }

  run(op: string, inputs: readonly GpuView[], outputs: readonly GpuView[], params: object): void {
    this.#check();
    const kernel = GPU_KERNELS[op];
    if (!kernel) throw new Error(`${op}: backend "webgpu" has no kernel for primitive "${op}"`);
    kernel(this, inputs, outputs, params);
  }

  memory(): BackendMemory {
    return { buffers: this.#buffers, bytes: this.#bytes };
  }

  /** The command encoder collecting work until the next submit (for copies and clears: ends the open compute pass). */
  encoder(): GPUCommandEncoder {
    this.#endPass();
    this.#encoder ??= this.device.createCommandEncoder();
    return this.#encoder;
  }

  /**
   * The compute pass for the next dispatch. Consecutive dispatches share one pass, which costs far
   * less than a pass each; WebGPU still makes each dispatch see the writes of the ones before it.
   */
  #computePass(): GPUComputePassEncoder {
    if (!this.#pass) this.#pass = this.encoder().beginComputePass();
    return this.#pass;
  }

  #endPass(): void {
    if (this.#pass) {
      this.#pass.end();
      this.#pass = null;
    }
  }

  /**
   * Submits everything encoded so far: the dispatches' parameters are uploaded first, and buffers
   * freed since the last submit are cleared after the work that used them, ready for reuse.
   */
  flush(): void {
    this.#params.upload();
    this.#endPass();
    if (this.#dirty.size > 0) {
      const encoder = this.encoder();
      for (const [bytes, list] of this.#dirty) {
        for (const b of list) encoder.clearBuffer(b);
        const clean = this.#pool.get(bytes);
        if (clean) for (const b of list) clean.push(b);
        else this.#pool.set(bytes, list);
      }
      this.#dirty.clear();
    }
    if (this.#encoder) {
      this.device.queue.submit([this.#encoder.finish()]);
      this.#encoder = null;
      this.#encoded = 0;
    }
    for (const b of this.#transient) b.destroy();
    this.#transient = [];
  }

  /** Waits until the GPU has finished all submitted work. */
  async sync(): Promise<void> {
    const indexCheck = beginIndexCheck(this);
    this.flush();
    await this.device.queue.onSubmittedWorkDone();
    this.#check();
    await indexCheck?.();
  }

  /** A staging buffer of at least `bytes` bytes for reading back (MAP_READ | COPY_DST); give it back with `releaseStaging` once unmapped. */
  acquireStaging(bytes: number): GPUBuffer {
    return this.#staging.acquire(bytes);
  }

  /** Takes back a buffer of `acquireStaging`: unmapped, or with `failed` when its map failed. */
  releaseStaging(buffer: GPUBuffer, failed = false): void {
    if (failed) this.#staging.discard(buffer);
    else this.#staging.release(buffer);
  }

  #pipeline(d: Dispatch): { pipeline: GPUComputePipeline; layout: GPUBindGroupLayout } {
    const cached = this.#pipelines.get(d.key);
    if (cached) return cached;
    const code = d.code();
    this.device.pushErrorScope('validation');
    const module = this.device.createShaderModule({ code, label: d.op });
    const pipeline = this.device.createComputePipeline({ layout: 'auto', compute: { module, entryPoint: 'main' }, label: d.op });
    this.#lastScope = this.device.popErrorScope().then((err) => {
      if (err && (!this.#error || this.#uncaptured)) {
        this.#error = new Error(`webgpu: the kernel for "${d.op}" failed to compile: ${err.message}\n${code}`);
        this.#uncaptured = false;
      }
    });
    const p = { pipeline, layout: pipeline.getBindGroupLayout(0) };
    this.#pipelines.set(d.key, p);
    return p;
  }

  /** Encodes one compute dispatch. */
  dispatch(d: Dispatch): void {
    this.#check();
    const { pipeline, layout } = this.#pipeline(d);
    const entries: GPUBindGroupEntry[] = [];
    for (const s of d.inputs) entries.push({ binding: entries.length, resource: { buffer: s.buffer } });
    for (const s of d.outputs) entries.push({ binding: entries.length, resource: { buffer: s.buffer } });
    if (d.meta) {
      let slice = this.#params.push(d.meta);
      if (!slice) {
        this.flush(); // the batch's parameter buffer is full: submit it and start another batch
        slice = this.#params.push(d.meta)!;
      }
      entries.push({ binding: entries.length, resource: { buffer: slice.buffer, offset: slice.offset, size: slice.size } });
    }
    const bindGroup = this.device.createBindGroup({ layout, entries });
    const pass = this.#computePass();
    pass.setPipeline(pipeline);
    pass.setBindGroup(0, bindGroup);
    pass.dispatchWorkgroups(d.workgroups[0], d.workgroups[1], d.workgroups[2]);
    if (++this.#encoded >= BATCH) this.flush();
  }

  /** Releases every GPU resource (the device too, if the backend created it). */
  destroy(): void {
    this.flush();
    for (const list of this.#pool.values()) for (const b of list) b.destroy();
    this.#pool.clear();
    this.#pooledBytes = 0;
    this.#staging.destroy();
    this.#params.destroy();
    if (this.owned) this.device.destroy();
  }
}

/**
 * Creates the WebGPU backend (nothing is registered: pass it to `setBackend` or to the `backend`
 * option of tensor creation).
 *
 * @example
 * ```ts
 * import { setBackend, tensor } from '@ml/tensor';
 * import { webgpu } from '@ml/gpu-webgpu';
 * setBackend(await webgpu());
 * const y = tensor([[1, 2], [3, 4]]).matmul(tensor([[5], [6]]));
 * console.log(await y.array()); // [[17], [39]]
 * ```
 */
export async function webgpu(options: WebGPUOptions = {}): Promise<WebGPUBackend> {
  const { device, adapterName, owned } = await acquireDevice(options);
  return new WebGPUBackend(device, adapterName, owned);
}

/**
 * The WebGPU backend: buffers live on the GPU, every primitive is a WGSL compute kernel, work is
 * encoded into command buffers and submitted in batches, and only `read` waits for the GPU.
 */
import type { Backend, BackendMemory, Capabilities, DType, TypedArray, View } from '@ml/tensor';
import { acquireDevice } from './device.js';
import type { WebGPUOptions } from './device.js';
import { GPU_KERNELS } from './kernels/index.js';
import { beginIndexCheck } from './kernels/movement.js';
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
  readonly #pipelines = new Map<string, GPUComputePipeline>();
  readonly #pool = new Map<number, GPUBuffer[]>();
  #pooledBytes = 0;
  #buffers = 0;
  #bytes = 0;
  #encoder: GPUCommandEncoder | null = null;
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
    const pooled = this.#pool.get(bytes)?.pop();
    if (pooled) {
      this.#pooledBytes -= bytes;
      this.encoder().clearBuffer(pooled); // allocate promises zeros
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
    const staging = this.device.createBuffer({ size: storage.bytes, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
    this.encoder().copyBufferToBuffer(storage.buffer, 0, staging, 0, storage.bytes);
    this.flush();
    try {
      await staging.mapAsync(GPUMapMode.READ);
    } catch (e) {
      this.#check();
      throw new Error(`webgpu: reading a buffer failed: ${(e as Error).message}`);
    }
    const raw = staging.getMappedRange().slice(0, storage.size * 4);
    staging.unmap();
    staging.destroy();
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
    const list = this.#pool.get(storage.bytes) ?? [];
    list.push(storage.buffer);
    this.#pool.set(storage.bytes, list);
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

  /** The command encoder collecting work until the next submit. */
  encoder(): GPUCommandEncoder {
    this.#encoder ??= this.device.createCommandEncoder();
    return this.#encoder;
  }

  /** Submits everything encoded so far. */
  flush(): void {
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

  #pipeline(d: Dispatch): GPUComputePipeline {
    let p = this.#pipelines.get(d.key);
    if (p) return p;
    const code = d.code();
    this.device.pushErrorScope('validation');
    const module = this.device.createShaderModule({ code, label: d.op });
    p = this.device.createComputePipeline({ layout: 'auto', compute: { module, entryPoint: 'main' }, label: d.op });
    this.#lastScope = this.device.popErrorScope().then((err) => {
      if (err && (!this.#error || this.#uncaptured)) {
        this.#error = new Error(`webgpu: the kernel for "${d.op}" failed to compile: ${err.message}\n${code}`);
        this.#uncaptured = false;
      }
    });
    this.#pipelines.set(d.key, p);
    return p;
  }

  /** Encodes one compute dispatch. */
  dispatch(d: Dispatch): void {
    this.#check();
    const pipeline = this.#pipeline(d);
    const entries: GPUBindGroupEntry[] = [...d.inputs, ...d.outputs].map((s, i) => ({ binding: i, resource: { buffer: s.buffer } }));
    if (d.meta) {
      const meta = this.device.createBuffer({ size: Math.max(4, d.meta.length * 4), usage: GPUBufferUsage.STORAGE, mappedAtCreation: true });
      new Int32Array(meta.getMappedRange()).set(d.meta);
      meta.unmap();
      entries.push({ binding: entries.length, resource: { buffer: meta } });
      this.#transient.push(meta);
    }
    const bindGroup = this.device.createBindGroup({ layout: pipeline.getBindGroupLayout(0), entries });
    const pass = this.encoder().beginComputePass({ label: d.op });
    pass.setPipeline(pipeline);
    pass.setBindGroup(0, bindGroup);
    pass.dispatchWorkgroups(...d.workgroups);
    pass.end();
    if (++this.#encoded >= BATCH) this.flush();
  }

  /** Releases every GPU resource (the device too, if the backend created it). */
  destroy(): void {
    this.flush();
    for (const list of this.#pool.values()) for (const b of list) b.destroy();
    this.#pool.clear();
    this.#pooledBytes = 0;
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

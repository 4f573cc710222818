/**
 * The `info: array<i32>` parameters of dispatches, without a GPU buffer per dispatch.
 *
 * Creating a buffer is expensive on some drivers (0.4 ms for a 64-byte mapped buffer on an NVIDIA
 * Vulkan driver), so every dispatch encoded before a submit gets a slice of one shared buffer: its
 * words are staged in a JS array at an offset aligned to `minStorageBufferOffsetAlignment`, and the
 * whole batch is uploaded by one `queue.writeBuffer` just before the command buffer is submitted.
 *
 * Reusing the buffer for the next batch is safe without waiting for the GPU: queue operations run
 * in the order they are issued, so the next upload lands after the submitted batch has read it.
 * Within a batch every dispatch has its own slice.
 */

/** Where one dispatch's parameters live: bind `{ buffer, offset, size }`. */
export interface ParamSlice {
  readonly buffer: GPUBuffer;
  readonly offset: number;
  readonly size: number;
}

/** Bytes of the shared buffer to start with (256 slices at the usual 256-byte alignment). */
const INITIAL_BYTES = 64 * 1024;

export class ParamArena {
  readonly #device: GPUDevice;
  readonly #align: number;
  #buffer: GPUBuffer;
  #staged: Int32Array;
  /** Bytes of #staged in use by the batch being encoded. */
  #used = 0;

  constructor(device: GPUDevice) {
    this.#device = device;
    this.#align = device.limits.minStorageBufferOffsetAlignment || 256;
    this.#buffer = this.#create(INITIAL_BYTES);
    this.#staged = new Int32Array(INITIAL_BYTES / 4);
  }

  #create(bytes: number): GPUBuffer {
    return this.#device.createBuffer({ size: bytes, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST, label: 'dispatch parameters' });
  }

  /**
   * Stages `words` for the batch being encoded and returns their slice, or null when the buffer is
   * full: then submit the batch (which calls `upload`) and push again.
   */
  push(words: readonly number[]): ParamSlice | null {
    const size = Math.max(4, words.length * 4);
    const offset = Math.ceil(this.#used / this.#align) * this.#align;
    if (offset + size > this.#staged.byteLength) {
      if (this.#used > 0) return null;
      // one dispatch larger than the whole buffer: grow it (work already submitted keeps the old one
      // alive until it has run)
      const bytes = Math.ceil(size / this.#align) * this.#align * 2;
      this.#buffer.destroy();
      this.#buffer = this.#create(bytes);
      this.#staged = new Int32Array(bytes / 4);
    }
    this.#staged.set(words, offset / 4);
    this.#used = offset + size;
    return { buffer: this.#buffer, offset, size };
  }

  /** Uploads the staged batch; call right before submitting the command buffer that reads it. */
  upload(): void {
    if (this.#used === 0) return;
    this.#device.queue.writeBuffer(this.#buffer, 0, this.#staged.buffer, 0, this.#used);
    this.#used = 0;
  }

  destroy(): void {
    this.#buffer.destroy();
  }
}

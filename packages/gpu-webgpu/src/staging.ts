/**
 * Staging buffers for reading GPU buffers back, reused across reads.
 *
 * A read copies a buffer into a `MAP_READ` buffer and maps it. Creating that buffer for every read
 * costs more than the read itself on some drivers (0.88 ms against 0.06 ms with a reused one on an
 * NVIDIA Vulkan driver), so unmapped staging buffers go back to a pool, by size class (powers of
 * two from 256 bytes), and the next read of a size in that class takes one. Large reads (over
 * `MAX_POOLED` bytes) use a buffer of their own, and the pool keeps at most `POOL_LIMIT` idle bytes.
 */

const MIN_CLASS = 256;
const MAX_POOLED = 16 * 1024 * 1024;
const POOL_LIMIT = 64 * 1024 * 1024;

/** The bytes of the staging buffer that holds `bytes`: a power of two up to MAX_POOLED, else exact. */
function sizeClass(bytes: number): number {
  if (bytes > MAX_POOLED) return bytes;
  let c = MIN_CLASS;
  while (c < bytes) c *= 2;
  return c;
}

export class StagingPool {
  readonly #device: GPUDevice;
  readonly #idle = new Map<number, GPUBuffer[]>();
  #idleBytes = 0;

  constructor(device: GPUDevice) {
    this.#device = device;
  }

  /** An unmapped staging buffer of at least `bytes` bytes (MAP_READ | COPY_DST). */
  acquire(bytes: number): GPUBuffer {
    const size = sizeClass(bytes);
    const idle = this.#idle.get(size)?.pop();
    if (idle) {
      this.#idleBytes -= size;
      return idle;
    }
    return this.#device.createBuffer({ size, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST, label: 'staging' });
  }

  /** Takes back a buffer from `acquire` once it is unmapped (a failed map: `discard` it instead). */
  release(buffer: GPUBuffer): void {
    const size = buffer.size;
    if (size > MAX_POOLED || this.#idleBytes + size > POOL_LIMIT) {
      buffer.destroy();
      return;
    }
    const list = this.#idle.get(size);
    if (list) list.push(buffer);
    else this.#idle.set(size, [buffer]);
    this.#idleBytes += size;
  }

  /** Destroys a buffer from `acquire` that is in an unknown state (its map failed). */
  discard(buffer: GPUBuffer): void {
    buffer.destroy();
  }

  destroy(): void {
    for (const list of this.#idle.values()) for (const b of list) b.destroy();
    this.#idle.clear();
    this.#idleBytes = 0;
  }
}

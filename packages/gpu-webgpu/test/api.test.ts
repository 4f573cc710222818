// The backend as a user meets it: the README and its example, what the backend reports about
// itself, a kernel for every primitive but the CPU-only dense solvers, exact round trips of every
// dtype, the buffer pool, large and long-batched dispatches, and releasing the GPU.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Backend, DType, TypedArray } from '@ml/tensor';
import * as T from '@ml/tensor';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { WebGPUBackend, webgpu, workgroupsFor } from '../src/index.js';

const here = (p: string) => fileURLToPath(new URL(p, import.meta.url));

/** The dense solvers run on the CPU backend only (see the README). */
const CPU_ONLY = ['cholesky', 'triangularSolve', 'solve', 'qr', 'eigh', 'svd'];

let gpu: WebGPUBackend;
beforeAll(async () => {
  gpu = await webgpu();
});
afterAll(() => {
  expect(T.memory(gpu)).toMatchObject({ tensors: 0, buffers: 0, bytes: 0 });
  gpu.destroy();
});

describe('README', () => {
  it('shows examples/quickstart.ts verbatim', () => {
    const readme = readFileSync(here('../README.md'), 'utf8');
    const example = readFileSync(here('../examples/quickstart.ts'), 'utf8');
    expect(readme).toContain(example.trim());
  });

  it('runs the quickstart and prints what the comments say', async () => {
    const lines: unknown[][] = [];
    const spy = vi.spyOn(console, 'log').mockImplementation((...args) => void lines.push(args));
    try {
      const { gpu: used } = await import('../examples/quickstart.js');
      expect(used.name).toBe('webgpu');
      expect(lines[0][0]).toEqual([[17], [39]]);
      const probs = lines[1][0] as number[];
      expect(probs[0]).toBeCloseTo(0.13, 2);
      expect(probs[1]).toBeCloseTo(0.869, 2);
      expect(probs[2]).toBeCloseTo(0.001, 3);
      const cpuDraw = T.random.uniform(T.random.key(0), [3], { backend: T.createCpuBackend() });
      expect(lines[2][0]).toEqual(await cpuDraw.array());
      cpuDraw.dispose();
      expect(Number(lines[3][0])).toBeGreaterThan(0.95);
      expect(Number(lines[3][0])).toBeLessThan(1.05);
      expect(lines[4][0]).toEqual({ backend: 'webgpu', tensors: 0, buffers: 0, bytes: 0 });
    } finally {
      spy.mockRestore();
      T.setBackend(T.createCpuBackend()); // the example made its (now destroyed) GPU the default
    }
  });
});

describe('the backend', () => {
  it('says what it is and what it can do', () => {
    expect(gpu.name).toBe('webgpu');
    expect(gpu.capabilities).toEqual({ dtypes: ['float32', 'int32', 'uint8', 'bool'], syncRead: false });
    expect(typeof gpu.adapterName).toBe('string');
    expect(gpu.adapterName.length).toBeGreaterThan(0);
  });

  it('has a kernel for every primitive except the dense solvers', () => {
    const missing = T.PRIMITIVE_NAMES.filter((op) => !CPU_ONLY.includes(op) && !gpu.hasKernel(op));
    expect(missing, `primitives without a WebGPU kernel: ${missing.join(', ')}`).toEqual([]);
    for (const op of CPU_ONLY) expect(gpu.hasKernel(op), op).toBe(false);
  });

  it('the dense solvers say they have no kernel, naming the op', () => {
    const a = T.eye(2, 2, 0, { backend: gpu });
    const before = T.memory(gpu);
    try {
      expect(() => T.cholesky(a)).toThrow('cholesky: backend "webgpu" has no kernel for primitive "cholesky"');
      expect(T.memory(gpu)).toEqual(before);
    } finally {
      a.dispose();
    }
  });

  it('round-trips every dtype exactly, special values included', async () => {
    const cases: [DType, TypedArray][] = [
      ['float32', Float32Array.from([0, -0, 1.5, -2.25, NaN, Infinity, -Infinity, 3.4028234663852886e38, 1.401298464324817e-45, 1e-40])],
      ['int32', Int32Array.from([0, 1, -1, 2147483647, -2147483648, 123456789])],
      ['uint8', Uint8Array.from([0, 1, 127, 128, 254, 255])],
      ['bool', Uint8Array.from([0, 1, 1, 0])],
    ];
    for (const [dtype, data] of cases) {
      const t = T.tensor(data, { dtype, backend: gpu });
      const back = await t.data();
      t.dispose();
      expect(back.constructor, dtype).toBe(data.constructor);
      expect(Array.from(back).map(Object.is.bind(null, 0)), `${dtype}: signs of zero`).toEqual(Array.from(data).map(Object.is.bind(null, 0)));
      expect(Array.from(back), dtype).toEqual(Array.from(data));
    }
  });

  it('reads only asynchronously', () => {
    const t = T.ones([2], { backend: gpu });
    try {
      expect((gpu as Backend).readSync).toBeUndefined();
      expect(() => t.dataSync()).toThrow(/cannot read synchronously; use await t.data\(\)/);
    } finally {
      t.dispose();
    }
  });
});

describe('memory', () => {
  it('pools freed buffers by size; a reused buffer reads as zeros; memory() counts live ones only', async () => {
    const before = gpu.memory();
    const s1 = gpu.allocate('float32', 1000);
    gpu.write(s1, 'float32', new Float32Array(1000).fill(7));
    expect(gpu.memory()).toEqual({ buffers: before.buffers + 1, bytes: before.bytes + 4000 });
    gpu.free(s1);
    expect(gpu.memory()).toEqual(before);
    const s2 = gpu.allocate('int32', 1000); // same byte size: the pooled buffer
    expect(s2.buffer).toBe(s1.buffer);
    expect(Array.from(await gpu.read(s2, 'int32')).every((v) => v === 0)).toBe(true);
    const s3 = gpu.allocate('float32', 999); // another size: a new buffer
    expect(s3.buffer).not.toBe(s1.buffer);
    gpu.free(s2);
    gpu.free(s3);
    expect(gpu.memory()).toEqual(before);
  });

  it('past the pool limit, freed buffers are destroyed instead of kept', async () => {
    const small = new WebGPUBackend(gpu.device, 'pool limit 0', false, 0);
    const s = small.allocate('float32', 16);
    const destroy = vi.spyOn(s.buffer, 'destroy');
    small.free(s);
    small.flush();
    expect(destroy).toHaveBeenCalledOnce();
    expect(small.allocate('float32', 16).buffer).not.toBe(s.buffer);
    small.destroy(); // does not destroy a device it did not create
    const t = T.ones([1], { backend: gpu });
    expect(Array.from(await t.data())).toEqual([1]);
    t.dispose();
  });
});

describe('dispatch', () => {
  it('folds workgroups into 2-D past 65535', () => {
    expect(workgroupsFor(0)).toEqual([1, 1, 1]);
    expect(workgroupsFor(64)).toEqual([1, 1, 1]);
    expect(workgroupsFor(65)).toEqual([2, 1, 1]);
    expect(workgroupsFor(65535 * 64)).toEqual([65535, 1, 1]);
    expect(workgroupsFor(65535 * 64 + 1)).toEqual([65535, 2, 1]);
    expect(workgroupsFor(1000, 256)).toEqual([4, 1, 1]);
  });

  it('an elementwise op over more threads than one grid dimension holds reaches every element', async () => {
    const n = 65535 * 64 + 1000;
    const y = T.scope(() => T.arange(n, undefined, 1, { dtype: 'int32', backend: gpu }).mul(2).add(1));
    const data = await y.data();
    y.dispose();
    let bad = -1;
    for (let i = 0; i < n; i++) if (data[i] !== 2 * i + 1) { bad = i; break; }
    expect(bad, bad >= 0 ? `element ${bad}: ${data[bad]}` : '').toBe(-1);
  });

  it('long chains of ops are submitted in batches and all run, in order', async () => {
    let x = T.zeros([5], { dtype: 'int32', backend: gpu });
    for (let i = 0; i < 300; i++) {
      const next = x.add(1);
      x.dispose();
      x = next;
    }
    expect(Array.from(await x.data())).toEqual([300, 300, 300, 300, 300]);
    x.dispose();
  });

  it('sync() waits for the work submitted so far', async () => {
    const x = T.ones([4], { backend: gpu });
    const y = x.mul(3);
    await gpu.sync();
    expect(Array.from(await y.data())).toEqual([3, 3, 3, 3]);
    x.dispose();
    y.dispose();
  });
});

// Error behaviour of the WebGPU backend: argument and shape errors are raised before any GPU work,
// with the CPU backend's messages; float64 is refused by name; errors that happen on the GPU
// (a kernel that fails to compile, a lost device, an index out of range) surface on the next read
// or op, naming what failed; and no adapter gives the error that says how to fall back to the CPU.
import type { Backend, Tensor } from '@ml/tensor';
import * as T from '@ml/tensor';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import type { WebGPUBackend } from '../src/index.js';
import { webgpu } from '../src/index.js';

let gpu: WebGPUBackend;
const cpu = T.createCpuBackend();

beforeAll(async () => {
  gpu = await webgpu();
});
afterAll(() => gpu.destroy());
afterEach(() => {
  vi.restoreAllMocks();
  vi.unstubAllGlobals();
});

/** The message of the error `call` throws, or undefined if it does not throw. */
function messageOf(call: () => unknown): string | undefined {
  try {
    const out = call();
    if (out && typeof out === 'object' && 'dispose' in out) (out as Tensor).dispose();
  } catch (e) {
    expect((e as Error).name, `${(e as Error).message}: error type`).toBe('TensorError');
    return (e as Error).message;
  }
  return undefined;
}

/** Fixtures with the same shapes and dtypes on a backend. */
function fixtures(be: Backend) {
  const f = {
    m23: T.zeros([2, 3], { backend: be }),
    m34: T.zeros([3, 4], { backend: be }),
    m45: T.zeros([4, 5], { backend: be }),
    v3: T.zeros([3], { backend: be }),
    v4: T.zeros([4], { backend: be }),
    b3: T.zeros([3], { dtype: 'bool', backend: be }),
    i2: T.tensor([0, 2], { dtype: 'int32', backend: be }),
    i23: T.zeros([2, 3], { dtype: 'int32', backend: be }),
    img: T.zeros([1, 3, 5, 5], { backend: be }),
    kernel: T.zeros([4, 2, 3, 3], { backend: be }),
  };
  return { ...f, dispose: () => Object.values(f).forEach((t) => t.dispose()) };
}

type Fixtures = ReturnType<typeof fixtures>;

/** Bad calls, each on the fixtures of one backend. */
const BAD_CALLS: readonly [string, (f: Fixtures) => unknown][] = [
  ['add broadcast', (f) => T.add(f.m23, f.v4)],
  ['mul broadcast', (f) => f.m23.mul(f.m34)],
  ['where shapes', (f) => T.where(f.b3, f.v4, f.v4)],
  ['where float condition', (f) => T.where(f.v3, f.v3, 0)],
  ['matmul', (f) => T.matmul(f.m23, f.m45)],
  ['dot', (f) => T.dot(f.v3, f.v4)],
  ['einsum sizes', (f) => T.einsum('ij,jk->ik', f.m23, f.m45)],
  ['concat', (f) => T.concat([f.m34, f.m23], 0)],
  ['stack', (f) => T.stack([f.v3, f.v4])],
  ['reshape', (f) => f.m23.reshape([4])],
  ['expand', (f) => f.m23.expand([4, 3])],
  ['sum axis', (f) => f.m23.sum(2)],
  ['softmax axis', (f) => f.m23.softmax(-3)],
  ['argmax axis', (f) => f.m23.argmax(2)],
  ['cumsum axis', (f) => f.m23.cumsum(2)],
  ['sort axis', (f) => f.m23.sort(2)],
  ['topk k', (f) => f.v3.topk(5)],
  ['slice index', (f) => f.m34.slice('5')],
  ['pad', (f) => f.m23.pad([[1, 1]])],
  ['gather rank', (f) => T.gather(f.m23, 1, f.i2)],
  ['gather float index', (f) => T.gather(f.m23, 1, f.m23)],
  ['scatterAdd shapes', (f) => T.scatterAdd(f.m23, 0, f.i23, f.m34)],
  ['indexSelect array index', (f) => T.indexSelect(f.m34, 0, [0, 3])],
  ['oneHot classes', (f) => T.oneHot(f.i2, 0)],
  ['conv2d channels', (f) => T.conv2d(f.img, f.kernel)],
  ['maxPool2d kernel', (f) => T.maxPool2d(f.img, 7)],
  ['neg bool', (f) => T.neg(f.b3)],
];

describe('errors before any GPU work', () => {
  it('shape, axis and argument errors match the CPU backend and encode nothing on the GPU', () => {
    const fc = fixtures(cpu);
    const fg = fixtures(gpu);
    gpu.flush();
    const dispatch = vi.spyOn(gpu, 'dispatch');
    const encoder = vi.spyOn(gpu, 'encoder');
    const allocate = vi.spyOn(gpu, 'allocate');
    const before = T.memory(gpu);
    try {
      for (const [label, call] of BAD_CALLS) {
        const want = messageOf(() => call(fc));
        expect(want, `${label}: the CPU backend throws`).toBeDefined();
        const got = messageOf(() => call(fg));
        expect(got, `${label}: same message as the CPU backend`).toBe(want);
        expect(dispatch, `${label}: no kernel dispatched`).not.toHaveBeenCalled();
        expect(encoder, `${label}: no GPU command encoded`).not.toHaveBeenCalled();
        expect(allocate, `${label}: no buffer allocated`).not.toHaveBeenCalled();
        expect(T.memory(gpu), `${label}: memory unchanged`).toEqual(before);
      }
    } finally {
      fc.dispose();
      fg.dispose();
    }
  });

  it('mixed dtypes and scalar operands: the shape error comes before any conversion, and frees everything', () => {
    // the operands of a binary op are cast to their common dtype (and scalars made tensors): the
    // broadcast check must come first, or a shape error costs GPU work (and must free the casts)
    const fc = fixtures(cpu);
    const fg = fixtures(gpu);
    gpu.flush();
    const dispatch = vi.spyOn(gpu, 'dispatch');
    const calls: readonly [string, (f: Fixtures) => unknown][] = [
      ['add int32 + float32', (f) => T.add(f.i23, f.v4)],
      ['maximum int32, float32', (f) => T.maximum(f.i23, f.v4)],
      ['lt int32, float32', (f) => T.lt(f.i23, f.v4)],
      ['where with a scalar', (f) => T.where(f.b3, f.v4, 0)],
    ];
    try {
      for (const [label, call] of calls) {
        const before = T.memory(gpu);
        const want = messageOf(() => call(fc));
        expect.soft(want, `${label}: the CPU backend throws`).toBeDefined();
        expect.soft(messageOf(() => call(fg)), `${label}: same message as the CPU backend`).toBe(want);
        expect.soft(dispatch.mock.calls.map(([d]) => d.op), `${label}: kernels run before the error`).toEqual([]);
        expect.soft(T.memory(gpu), `${label}: memory unchanged`).toEqual(before);
        dispatch.mockClear();
      }
    } finally {
      fc.dispose();
      fg.dispose();
    }
  });

  it('float64 is refused by name, before anything is allocated', () => {
    const allocate = vi.spyOn(gpu, 'allocate');
    const x = T.ones([2], { backend: gpu });
    allocate.mockClear();
    const before = T.memory(gpu);
    const unsupported = (op: string) =>
      new RegExp(`^${op}: backend "webgpu" does not support dtype float64 \\(it supports float32, int32, uint8, bool\\)`);
    try {
      expect(() => T.tensor([1, 2], { dtype: 'float64', backend: gpu })).toThrow(unsupported('tensor'));
      expect(() => T.tensor(new Float64Array(2), { backend: gpu })).toThrow(unsupported('tensor'));
      expect(() => T.zeros([2], { dtype: 'float64', backend: gpu })).toThrow(unsupported('(zeros|full|fill)'));
      expect(() => x.cast('float64')).toThrow(unsupported('cast'));
      expect(() => T.random.normal(T.random.key(0), [2], { dtype: 'float64', backend: gpu })).toThrow(/does not support dtype float64/);
      // integers over a span of 2^31 or more are drawn through float64 uniforms
      expect(() => T.random.randint(T.random.key(0), [2], -(2 ** 31), 2 ** 31 - 1, { backend: gpu })).toThrow(
        /backend "webgpu" does not support dtype float64/,
      );
      expect(allocate).not.toHaveBeenCalled();
      expect(T.memory(gpu)).toEqual(before);
    } finally {
      x.dispose();
    }
  });

  it('synchronous reads are refused with a pointer to the async ones', () => {
    const x = T.ones([2], { backend: gpu });
    try {
      expect(() => x.dataSync()).toThrow('dataSync: backend "webgpu" cannot read synchronously; use await t.data()');
    } finally {
      x.dispose();
    }
  });

  it('a tensor larger than the device allows is refused when it is created', () => {
    const limit = Math.min(gpu.device.limits.maxBufferSize, gpu.device.limits.maxStorageBufferBindingSize);
    const before = T.memory(gpu);
    expect(() => T.zeros([limit / 4 + 1], { backend: gpu })).toThrow(/more than this device allows/);
    expect(T.memory(gpu)).toEqual(before);
  });
});

describe('errors found on the GPU', () => {
  it('an index out of range is reported by the next read, with the CPU backend\'s message', async () => {
    const be = [cpu, gpu] as const;
    const [xc, xg] = be.map((b) => T.tensor([[1, 2, 3], [4, 5, 6]], { backend: b }));
    const [ic, ig] = be.map((b) => T.tensor([[0, 3, 1], [1, 1, 1]], { dtype: 'int32', backend: b }));
    try {
      const want = messageOf(() => T.gather(xc, 1, ic));
      expect(want).toMatch(/^gather: index 3 is out of range for dim 1 of size 3/);
      const y = T.gather(xg, 1, ig); // the GPU cannot look at the indices without waiting
      await expect(y.data()).rejects.toThrow(want);
      y.dispose();
      // reported once: the backend goes on working
      expect(Array.from(await xg.add(1).data())).toEqual([2, 3, 4, 5, 6, 7]);
    } finally {
      for (const t of [xc, xg, ic, ig]) t.dispose();
    }
  });

  it('a kernel that fails to compile is named by the next read and op', async () => {
    const throwaway = await webgpu();
    const x = T.tensor([1, 2, 3], { backend: throwaway });
    const out = throwaway.allocate('float32', 4);
    throwaway.dispatch({
      op: 'brokenKernel',
      key: 'brokenKernel|test',
      code: () => 'this is not WGSL',
      inputs: [],
      outputs: [out],
      workgroups: [1, 1, 1],
    });
    await expect(x.data()).rejects.toThrow(/^webgpu: the kernel for "brokenKernel" failed to compile: .*/);
    expect(() => x.add(1)).toThrow(/brokenKernel/);
    throwaway.free(out);
    x.dispose();
    throwaway.destroy();
  });

  it('a lost device is reported by the next read and op', async () => {
    const throwaway = await webgpu();
    const x = T.tensor([1, 2, 3], { backend: throwaway });
    throwaway.device.destroy();
    await expect((async () => x.add(1).data())()).rejects.toThrow(/^webgpu: the GPU device was lost \(destroyed\)/);
    expect(() => x.mul(2)).toThrow(/the GPU device was lost/);
    x.dispose();
  });
});

describe('finding a GPU', () => {
  it('no adapter: says why and how to fall back to the CPU backend', async () => {
    vi.stubGlobal('navigator', { gpu: { requestAdapter: async () => null } });
    await expect(webgpu()).rejects.toThrow(/^webgpu: no GPU adapter is available \(requestAdapter returned null.*createCpuBackend\(\)/);
  });

  it('a device passed in is used as is', async () => {
    const requestAdapter = vi.fn();
    vi.stubGlobal('navigator', { gpu: { requestAdapter } });
    const be = await webgpu({ device: gpu.device });
    expect(be.adapterName).toBe('provided device');
    expect(requestAdapter).not.toHaveBeenCalled();
    be.destroy(); // leaves the device alone: it is not the backend's
    const y = T.tensor([1, 2], { backend: gpu });
    expect(Array.from(await y.data())).toEqual([1, 2]);
    y.dispose();
  });
});

// Keyed randomness gives the same numbers on the WebGPU backend as on the CPU backend: the raw bits
// (Threefry-2x32) and everything computed from them with exact float32 arithmetic agree bit for
// bit; draws that go through a transcendental function (normal: erfinv) agree within the float32
// tolerance the README documents.
import type { Backend, Tensor } from '@ml/tensor';
import * as T from '@ml/tensor';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { WebGPUBackend } from '../src/index.js';
import { webgpu } from '../src/index.js';

const { random } = T;
let gpu: WebGPUBackend;
const cpu = T.createCpuBackend();

beforeAll(async () => {
  gpu = await webgpu();
});
afterAll(() => {
  T.setBackend(T.createCpuBackend());
  expect(T.memory(gpu)).toMatchObject({ tensors: 0, buffers: 0, bytes: 0 });
  gpu.destroy();
});

/** The elements of `make(backend)` on the CPU and on the GPU (made the default backend for the draw), disposed after. */
async function both(make: (backend: Backend) => Tensor): Promise<{ dtype: string; want: ArrayLike<number>; got: ArrayLike<number> }> {
  const draw = async (be: Backend) => {
    T.setBackend(be); // draws that take no backend option use the default one
    const t = make(be);
    try {
      expect(t.backend).toBe(be);
      return { dtype: t.dtype, data: await t.data() };
    } finally {
      t.dispose();
    }
  };
  const c = await draw(cpu);
  const g = await draw(gpu);
  expect(g.dtype).toBe(c.dtype);
  return { dtype: c.dtype, want: c.data, got: g.data };
}

/** Same bits: float32 compared through their bit patterns (so -0 and NaN payloads count too). */
function expectBitExact(got: ArrayLike<number>, want: ArrayLike<number>, dtype: string): void {
  expect(got.length).toBe(want.length);
  if (dtype === 'float32') {
    const g = new Uint32Array(Float32Array.from(got).buffer);
    const w = new Uint32Array(Float32Array.from(want).buffer);
    const bad = g.findIndex((v, i) => v !== w[i]);
    expect(bad, bad >= 0 ? `element ${bad}: got ${got[bad]}, want ${want[bad]}` : '').toBe(-1);
  } else {
    expect(Array.from(got)).toEqual(Array.from(want));
  }
}

const key = random.key(20240601);

describe('the same key gives the same numbers on the CPU and the GPU', () => {
  it('uniform: bit for bit, on [0, 1) and on a range, for several shapes', async () => {
    for (const shape of [[], [1], [1000], [7, 13, 3]]) {
      const r = await both((backend) => random.uniform(key, shape, { backend }));
      expectBitExact(r.got, r.want, r.dtype);
    }
    const r = await both((backend) => random.uniform(random.fold(key, 7), [512], { backend, minval: -3, maxval: 5 }));
    expectBitExact(r.got, r.want, r.dtype);
  });

  it('split and fold keys draw the same streams', async () => {
    for (const k of [...random.split(key, 3), random.fold(key, 2 ** 31 + 5)]) {
      const r = await both((backend) => random.uniform(k, [64], { backend }));
      expectBitExact(r.got, r.want, r.dtype);
    }
  });

  it('randint: the raw bits and the reduced ranges, exactly', async () => {
    for (const [lo, hi] of [[0, 10], [-5, 5], [0, 2 ** 31 - 1], [-1000, 123457]] as const) {
      const r = await both((backend) => random.randint(key, [777], lo, hi, { backend }));
      expect(r.dtype).toBe('int32');
      expectBitExact(r.got, r.want, r.dtype);
      expect(Math.min(...Array.from(r.got))).toBeGreaterThanOrEqual(lo);
      expect(Math.max(...Array.from(r.got))).toBeLessThan(hi);
    }
  });

  it('normal: within float32 tolerance (erfinv is computed, not looked up)', async () => {
    const r = await both((backend) => random.normal(key, [4096], { backend }));
    let worst = 0;
    for (let i = 0; i < r.want.length; i++) {
      const w = r.want[i];
      const err = Math.abs(r.got[i] - w) / (Math.abs(w) + 1e-6);
      worst = Math.max(worst, err);
      expect(Math.abs(r.got[i] - w), `element ${i}: got ${r.got[i]}, want ${w}`).toBeLessThanOrEqual(4e-6 * Math.abs(w) + 1e-6);
    }
    expect(worst).toBeLessThan(4e-6);
  });

  it('bernoulli: the same mask, with a number and with a tensor of probabilities', async () => {
    const r = await both(() => random.bernoulli(key, 0.3, [2000]));
    expect(r.dtype).toBe('bool');
    expectBitExact(r.got, r.want, r.dtype);
    const p = await both((backend) => {
      const probs = T.linspace(0, 1, 50, { backend });
      try {
        return random.bernoulli(random.fold(key, 1), probs, [20, 50]);
      } finally {
        probs.dispose();
      }
    });
    expectBitExact(p.got, p.want, p.dtype);
  });

  it('categorical: the same categories (Gumbel-max over the same bits)', async () => {
    const r = await both((backend) => {
      const logits = T.tensor([[0, Math.log(3), -1, 2], [1, 1, 1, 1]], { backend });
      try {
        return random.categorical(key, logits, { shape: [300, 2] });
      } finally {
        logits.dispose();
      }
    });
    expect(r.dtype).toBe('int32');
    expectBitExact(r.got, r.want, r.dtype);
  });

  it('permutation: the same order of a range and of a tensor\'s rows', async () => {
    for (const n of [1, 2, 10, 1000]) {
      const r = await both((backend) => random.permutation(random.fold(key, n), n, { backend }));
      expectBitExact(r.got, r.want, r.dtype);
      expect(Array.from(r.got).sort((a, b) => a - b)).toEqual(Array.from({ length: n }, (_, i) => i));
    }
    const rows = await both((backend) => {
      const base = T.arange(24, undefined, 1, { backend });
      const x = base.reshape([8, 3]);
      try {
        return random.permutation(key, x);
      } finally {
        x.dispose();
        base.dispose();
      }
    });
    expectBitExact(rows.got, rows.want, rows.dtype);
  });
});

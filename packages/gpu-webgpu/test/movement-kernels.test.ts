/**
 * The movement kernels (concat, pad, gather, scatterAdd) and the random kernels (randomUniform,
 * randomBits) of the WebGPU backend against the CPU backend, compared bit for bit.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apply1, concat, createCpuBackend, gather, indexSelect, pad, scatterAdd, tensor, TensorError } from '@ml/tensor';
import type { Backend, DType, Tensor, TypedArray } from '@ml/tensor';
import { webgpu } from '../src/index.js';
import type { WebGPUBackend } from '../src/index.js';
import { checkIndexErrors } from '../src/kernels/movement.js';
import { rng } from './rng.js';

const cpu = createCpuBackend();
let gpu: WebGPUBackend;

beforeAll(async () => {
  gpu = await webgpu();
});
afterAll(() => gpu?.destroy());

// ---- helpers


const DTYPES: readonly DType[] = ['float32', 'int32', 'uint8', 'bool'];
const sizeOf = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);

/** Random values of a dtype: floats with a spread of magnitudes and signs, integers of both signs. */
function randomData(dtype: DType, n: number, rand: () => number): TypedArray {
  switch (dtype) {
    case 'float32':
      return Float32Array.from({ length: n }, () => (rand() - 0.5) * 10 ** Math.floor(rand() * 6 - 3));
    case 'int32':
      return Int32Array.from({ length: n }, () => Math.floor((rand() - 0.5) * 2 ** 32));
    case 'uint8':
      return Uint8Array.from({ length: n }, () => Math.floor(rand() * 256));
    default:
      return Uint8Array.from({ length: n }, () => (rand() < 0.5 ? 1 : 0));
  }
}

/** The same values as a tensor on the CPU and on the GPU. */
function pair(dtype: DType, shape: readonly number[], data: TypedArray): [Tensor, Tensor] {
  return [tensor(data, { dtype, shape, backend: cpu }), tensor(data, { dtype, shape, backend: gpu })];
}

function randomPair(dtype: DType, shape: readonly number[], rand: () => number): [Tensor, Tensor] {
  return pair(dtype, shape, randomData(dtype, sizeOf(shape), rand));
}

/** 32-bit words of a typed array (float bit patterns; uint8 values widened). */
function words(a: TypedArray): number[] {
  if (a instanceof Float32Array) return Array.from(new Uint32Array(a.buffer, a.byteOffset, a.length));
  return Array.from(a as ArrayLike<number>);
}

/** Asserts a GPU tensor equals its CPU twin: shape, dtype and every bit. */
async function same(c: Tensor, g: Tensor): Promise<void> {
  expect(g.shape).toEqual(c.shape);
  expect(g.dtype).toBe(c.dtype);
  const [a, b] = [await c.data(), await g.data()];
  expect(b.constructor).toBe(a.constructor);
  expect(b.length).toBe(a.length);
  const [wa, wb] = [words(a), words(b)];
  const bad = wa.findIndex((v, i) => v !== wb[i]);
  if (bad >= 0) expect.fail(`element ${bad} differs: cpu ${a[bad]} (${wa[bad]}), gpu ${b[bad]} (${wb[bad]})`);
}

/** Views that are not contiguous in their buffer, each of shape `shape` (built from a larger tensor). */
type ViewMaker = (t: Tensor) => Tensor;
const VIEWS: Record<string, { base: (shape: number[]) => number[]; view: ViewMaker }> = {
  contiguous: { base: (s) => s, view: (t) => t },
  transposed: { base: (s) => [...s].reverse(), view: (t) => t.permute(t.shape.map((_, i) => t.rank - 1 - i)) },
  stepped: { base: (s) => s.map((d) => 2 * d + 1), view: (t) => t.slice(t.shape.map(() => [1, null, 2] as [number, null, number])) },
  flipped: { base: (s) => s, view: (t) => t.flip() },
};

/** A random view of `shape` of the given kind, on both backends. */
function randomView(kind: string, dtype: DType, shape: number[], rand: () => number): [Tensor, Tensor] {
  const { base, view } = VIEWS[kind];
  const [c, g] = randomPair(dtype, base(shape), rand);
  const out: [Tensor, Tensor] = [view(c), view(g)];
  expect(out[0].shape).toEqual(shape);
  return out;
}

/** Reads `t` and then checks for index errors (a read may also report them by itself). */
async function readChecked(t: Tensor): Promise<TypedArray> {
  const data = await t.data();
  await checkIndexErrors(gpu);
  return data;
}

/** The CPU backend's error for an op, as a message. */
function cpuError(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(TensorError);
    return (e as Error).message;
  }
  throw new Error('the CPU backend did not throw');
}

// ---- concat

describe('concat', () => {
  it('joins random views of every dtype along every axis', async () => {
    const rand = rng(1);
    for (const dtype of DTYPES) {
      for (const axis of [0, 1, 2]) {
        for (const kind of Object.keys(VIEWS)) {
          const sizes = [3, 0, 1, 4];
          const parts = sizes.map((k, j) => randomView(j % 2 ? kind : 'contiguous', dtype, [2, 3, 5].map((d, i) => (i === axis ? k : d)), rand));
          await same(concat(parts.map((p) => p[0]), axis), concat(parts.map((p) => p[1]), axis));
        }
      }
    }
  });

  it('takes more inputs than a shader can bind', async () => {
    const rand = rng(2);
    const parts = Array.from({ length: 20 }, (_, j) => randomView(j % 3 ? 'contiguous' : 'flipped', 'float32', [j % 4, 3], rand));
    await same(concat(parts.map((p) => p[0]), 0), concat(parts.map((p) => p[1]), 0));
    const cols = Array.from({ length: 12 }, (_, j) => randomView(j % 2 ? 'transposed' : 'stepped', 'int32', [4, j % 3], rand));
    await same(concat(cols.map((p) => p[0]), 1), concat(cols.map((p) => p[1]), 1));
  });

  it('handles a single input, 1-D inputs, expanded views and an all-empty result', async () => {
    const rand = rng(3);
    const [c, g] = randomView('stepped', 'uint8', [3, 4], rand);
    await same(concat([c], 1), concat([g], 1));
    const vs = [5, 0, 7].map((n) => randomPair('int32', [n], rand));
    await same(concat(vs.map((p) => p[0])), concat(vs.map((p) => p[1])));
    const [ec, eg] = randomPair('float32', [1, 3], rand);
    await same(concat([ec.expand([4, 3]), ec], 0), concat([eg.expand([4, 3]), eg], 0));
    const empty = [0, 0].map(() => randomPair('bool', [2, 0], rand));
    await same(concat(empty.map((p) => p[0]), 1), concat(empty.map((p) => p[1]), 1));
  });

  it('copies float bit patterns exactly (NaN, ±∞, -0, subnormals)', async () => {
    const special = new Float32Array([NaN, Infinity, -Infinity, -0, 1e-45, -1.2e-38, 3.4e38]);
    const [c, g] = pair('float32', [7], special);
    await same(concat([c, c.flip()]), concat([g, g.flip()]));
  });

  it('handles a large input (2-D dispatch)', async () => {
    const rand = rng(4);
    const [a, b] = randomPair('float32', [4_300_000], rand);
    const [c, d] = randomPair('float32', [1000], rand);
    await same(concat([c, a]), concat([d, b]));
  });
});

// ---- pad

describe('pad', () => {
  it('pads random views of every dtype', async () => {
    const rand = rng(5);
    for (const dtype of DTYPES) {
      for (const kind of Object.keys(VIEWS)) {
        const [c, g] = randomView(kind, dtype, [3, 4, 2], rand);
        const pads: [number, number][] = [[1, 2], [0, 3], [2, 0]];
        for (const value of [0, 1, 7]) await same(pad(c, pads, value), pad(g, pads, value));
      }
    }
  });

  it('stores the pad value as the output dtype does (±∞, NaN, -0, wrapping, truncation)', async () => {
    const rand = rng(6);
    const values: Record<string, number[]> = {
      float32: [Infinity, -Infinity, NaN, -0, 0.1, 1e40, 1e-45],
      int32: [-5, 2.7, -2.7, 2 ** 31 + 5, -(2 ** 33) - 1, NaN, Infinity],
      uint8: [255, 256, 300, -1, 3.9, NaN],
      bool: [0, 1],
    };
    for (const dtype of DTYPES) {
      const [c, g] = randomPair(dtype, [2, 3], rand);
      for (const value of values[dtype]) await same(pad(c, [[1, 1], [2, 0]], value), pad(g, [[1, 1], [2, 0]], value));
    }
  });

  it('handles zero pads, empty inputs, scalars and rank 1', async () => {
    const rand = rng(7);
    const [c, g] = randomView('transposed', 'float32', [3, 2], rand);
    await same(pad(c, [[0, 0], [0, 0]]), pad(g, [[0, 0], [0, 0]]));
    const [ec, eg] = randomPair('int32', [0, 3], rand);
    await same(pad(ec, [[2, 1], [1, 0]], 9), pad(eg, [[2, 1], [1, 0]], 9));
    const [sc, sg] = randomPair('float32', [], rand);
    await same(pad(sc, []), pad(sg, []));
    const [vc, vg] = randomView('flipped', 'uint8', [6], rand);
    await same(pad(vc, [[4, 5]], 200), pad(vg, [[4, 5]], 200));
  });
});

// ---- gather

/** A random int32 index of `shape` with values in [−dim, dim). */
function randomIndex(shape: number[], dim: number, rand: () => number): [Tensor, Tensor] {
  const data = Int32Array.from({ length: sizeOf(shape) }, () => Math.floor(rand() * 2 * dim) - dim);
  return pair('int32', shape, data);
}

describe('gather', () => {
  it('gathers random views of every dtype along every axis, with negative indices', async () => {
    const rand = rng(8);
    for (const dtype of DTYPES) {
      for (const axis of [0, 1, 2]) {
        for (const kind of Object.keys(VIEWS)) {
          const [xc, xg] = randomView(kind, dtype, [4, 3, 5], rand);
          const ishape = [3, 2, 4].map((d, i) => (i === axis ? 7 : d));
          const [ic, ig] = randomIndex(ishape, [4, 3, 5][axis], rand);
          await same(gather(xc, axis, ic), gather(xg, axis, ig));
        }
      }
    }
  });

  it('reads non-contiguous and expanded indices (indexSelect)', async () => {
    const rand = rng(9);
    const [xc, xg] = randomView('stepped', 'float32', [6, 5], rand);
    const [ic, ig] = randomIndex([4, 7], 6, rand);
    await same(gather(xc, 0, ic.transpose().slice([[0, 5]])), gather(xg, 0, ig.transpose().slice([[0, 5]])));
    const [sc, sg] = randomIndex([9], 5, rand);
    await same(indexSelect(xc, 1, sc), indexSelect(xg, 1, sg));
    await same(indexSelect(xc, 0, sc.slice([[null, null, -1]]).add(1)), indexSelect(xg, 0, sg.slice([[null, null, -1]]).add(1)));
  });

  it('handles empty indices, rank 1 and size-1 dims', async () => {
    const rand = rng(10);
    const [xc, xg] = randomPair('int32', [5], rand);
    const [ic, ig] = randomIndex([12], 5, rand);
    await same(gather(xc, 0, ic), gather(xg, 0, ig));
    const [ec, eg] = randomIndex([0], 5, rand);
    await same(gather(xc, 0, ec), gather(xg, 0, eg));
    const [yc, yg] = randomPair('bool', [1, 4], rand);
    const [jc, jg] = randomIndex([1, 6], 4, rand);
    await same(gather(yc, 1, jc), gather(yg, 1, jg));
  });

  it('reports the first out-of-range index with the CPU backend\'s message', async () => {
    const rand = rng(11);
    const [xc, xg] = randomPair('float32', [2, 3], rand);
    const idx = new Int32Array([0, 1, 2, -3, 7, 5, -4, 9]);
    const [ic, ig] = pair('int32', [2, 4], idx);
    const message = cpuError(() => gather(xc, 1, ic));
    expect(message).toBe('gather: index 7 is out of range for dim 1 of size 3 (input (2, 3))');
    const out = gather(xg, 1, ig);
    await expect(readChecked(out)).rejects.toThrow(message);
    // reported once: later reads are clean
    const ok = gather(xg, 1, pair('int32', [2, 2], new Int32Array([2, 0, 1, -1]))[1]);
    expect(Array.from(await readChecked(ok))).toEqual(Array.from(await gather(xc, 1, tensor([[2, 0], [1, -1]], { dtype: 'int32', backend: cpu })).data()));
  });

  it('reports the first failing op when several fail, and a non-contiguous index\'s value', async () => {
    const rand = rng(12);
    const [xc, xg] = randomPair('int32', [3, 4], rand);
    const [ic, ig] = pair('int32', [4, 3], new Int32Array([0, 1, 2, 0, 1, 2, 0, -9, 2, 0, 3, 2]));
    const message = cpuError(() => gather(xc, 0, ic.transpose()));
    expect(message).toBe('gather: index -9 is out of range for dim 0 of size 3 (input (3, 4))');
    const first = gather(xg, 0, ig.transpose());
    const [, jg] = pair('int32', [1], new Int32Array([100]));
    const second = gather(xg.reshape([12]), 0, jg);
    await expect(readChecked(second)).rejects.toThrow(message);
    await readChecked(first); // the record was consumed
  });

  it('reports the value of an index read at an offset, for inputs of different ranks', async () => {
    const rand = rng(17);
    for (const [shape, bad] of [[[2, 3], 5], [[2, 2, 3], -4], [[3], 3], [[2, 1, 1, 3], 11]] as [number[], number][]) {
      const [xc, xg] = randomPair('float32', shape, rand);
      const ishape = shape.map((d, i) => (i === shape.length - 1 ? 2 : d));
      const data = Int32Array.from({ length: 3 * sizeOf(ishape) }, (_, i) => (i === 2 * sizeOf(ishape) + 1 ? bad : i % 3));
      // rows 2.. of a taller index: dense, but at an offset in its buffer
      const [ic, ig] = pair('int32', [3 * ishape[0], ...ishape.slice(1)], data);
      const [vc, vg] = [ic.slice([[2 * ishape[0], null]]), ig.slice([[2 * ishape[0], null]])];
      const message = cpuError(() => gather(xc, shape.length - 1, vc));
      expect(message).toContain(`index ${bad} is out of range`);
      await expect(readChecked(gather(xg, shape.length - 1, vg))).rejects.toThrow(message);
    }
  });

  it('reports an index into an empty dim', async () => {
    const [xc, xg] = pair('float32', [2, 0], new Float32Array(0));
    const [ic, ig] = pair('int32', [2, 1], new Int32Array([0, 0]));
    const message = cpuError(() => gather(xc, 1, ic));
    await expect(readChecked(gather(xg, 1, ig))).rejects.toThrow(message);
  });
});

// ---- scatterAdd

describe('scatterAdd', () => {
  it('adds random views of every dtype along every axis, with repeated and negative indices', async () => {
    const rand = rng(13);
    for (const dtype of DTYPES) {
      for (const axis of [0, 1, 2]) {
        for (const kind of Object.keys(VIEWS)) {
          const xshape = [4, 3, 5];
          const [xc, xg] = randomView(kind, dtype, xshape, rand);
          const ishape = [3, 2, 4].map((d, i) => (i === axis ? 9 : d)); // more entries than the dim: repeats
          const [ic, ig] = randomIndex(ishape, xshape[axis], rand);
          const [sc, sg] = randomView(kind === 'flipped' ? 'transposed' : kind, dtype, ishape, rand);
          await same(scatterAdd(xc, axis, ic, sc), scatterAdd(xg, axis, ig, sg));
        }
      }
    }
  });

  it('adds float32 in the CPU\'s order (results equal, not just close)', async () => {
    const rand = rng(14);
    // many repeats of few targets, values of very different magnitudes: the order of addition shows
    const n = 2000;
    const src = Float32Array.from({ length: n }, () => (rand() - 0.5) * 10 ** Math.floor(rand() * 12 - 4));
    const idx = Int32Array.from({ length: n }, () => Math.floor(rand() * 3));
    const [xc, xg] = randomPair('float32', [3], rand);
    const [ic, ig] = pair('int32', [n], idx);
    const [sc, sg] = pair('float32', [n], src);
    await same(scatterAdd(xc, 0, ic, sc), scatterAdd(xg, 0, ig, sg));
  });

  it('wraps integer sums like the CPU (int32 mod 2^32, uint8 and bool mod 256)', async () => {
    const [ic, ig] = pair('int32', [6], new Int32Array([0, 0, 0, 1, 1, 1]));
    const [xc, xg] = pair('int32', [2], new Int32Array([2 ** 31 - 1, -(2 ** 31)]));
    const [sc, sg] = pair('int32', [6], new Int32Array([1, 2 ** 30, 2 ** 30, -1, -5, 2 ** 31 - 1]));
    await same(scatterAdd(xc, 0, ic, sc), scatterAdd(xg, 0, ig, sg));
    const [uc, ug] = pair('uint8', [2], new Uint8Array([250, 3]));
    const [vc, vg] = pair('uint8', [6], new Uint8Array([5, 1, 200, 255, 255, 1]));
    await same(scatterAdd(uc, 0, ic, vc), scatterAdd(ug, 0, ig, vg));
    const [bc, bg] = pair('bool', [2], new Uint8Array([1, 0]));
    const [tc, tg] = pair('bool', [6], new Uint8Array([1, 1, 0, 1, 1, 1]));
    await same(scatterAdd(bc, 0, ic, tc), scatterAdd(bg, 0, ig, tg));
  });

  it('handles an index smaller than x, an empty index and expanded views', async () => {
    const rand = rng(15);
    const [xc, xg] = randomView('stepped', 'float32', [5, 6], rand);
    const [ic, ig] = randomIndex([2, 4], 6, rand);
    const [sc, sg] = randomPair('float32', [2, 4], rand);
    await same(scatterAdd(xc, 1, ic, sc), scatterAdd(xg, 1, ig, sg));
    await same(scatterAdd(xc, 0, ic.mod(5), sc), scatterAdd(xg, 0, ig.mod(5), sg));
    const [ec, eg] = randomIndex([5, 0], 6, rand);
    const [fc, fg] = randomPair('float32', [5, 0], rand);
    await same(scatterAdd(xc, 1, ec, fc), scatterAdd(xg, 1, eg, fg));
    const [oc, og] = randomPair('float32', [1, 3], rand);
    const [jc, jg] = randomIndex([4, 1], 5, rand);
    await same(
      scatterAdd(xc, 0, jc.expand([4, 3]), oc.expand([4, 3])),
      scatterAdd(xg, 0, jg.expand([4, 3]), og.expand([4, 3])),
    );
  });

  it('reports the first out-of-range index with the CPU backend\'s message', async () => {
    const rand = rng(16);
    const [xc, xg] = randomPair('float32', [3, 4], rand);
    const [ic, ig] = pair('int32', [2, 3], new Int32Array([0, 1, 2, 3, -4, 4]));
    const [sc, sg] = randomPair('float32', [2, 3], rand);
    const message = cpuError(() => scatterAdd(xc, 1, ic, sc));
    expect(message).toBe('scatterAdd: index 4 is out of range for dim 1 of size 4 (input (3, 4))');
    await expect(readChecked(scatterAdd(xg, 1, ig, sg))).rejects.toThrow(message);
    const [jc, jg] = pair('int32', [1, 2], new Int32Array([5, -7]));
    const [tc, tg] = randomPair('float32', [1, 2], rand);
    const m0 = cpuError(() => scatterAdd(xc, 0, jc, tc));
    await expect(readChecked(scatterAdd(xg, 0, jg, tg))).rejects.toThrow(m0);
  });
});

// ---- random

function draw(op: 'randomUniform' | 'randomBits', backend: Backend, key: [number, number], shape: number[]): Tensor {
  return apply1(op, [], op === 'randomUniform' ? { key, shape, dtype: 'float32' } : { key, shape }, backend);
}

describe('random', () => {
  const keys: [number, number][] = [[0, 0], [0, 42], [0xffffffff, 0xffffffff], [0x12345678, 0x9abcdef0], [0x80000000, 1]];

  it('draws the CPU backend\'s uniforms and bits for several keys and sizes', async () => {
    for (const key of keys) {
      for (const shape of [[1], [7], [3, 100], [64 * 65], [1000, 33]]) {
        for (const op of ['randomUniform', 'randomBits'] as const) await same(draw(op, cpu, key, shape), draw(op, gpu, key, shape));
      }
    }
  });

  it('handles empty draws', async () => {
    await same(draw('randomBits', cpu, [1, 2], [0, 3]), draw('randomBits', gpu, [1, 2], [0, 3]));
    await same(draw('randomUniform', cpu, [1, 2], [0]), draw('randomUniform', gpu, [1, 2], [0]));
  });

  it('draws more than 4M elements (2-D dispatch) bit for bit', async () => {
    const n = 65535 * 64 + 123_457; // past one row of workgroups
    for (const key of [keys[1], keys[3]]) {
      for (const op of ['randomUniform', 'randomBits'] as const) await same(draw(op, cpu, key, [n]), draw(op, gpu, key, [n]));
    }
  });

  it('uniforms lie in [0, 1)', async () => {
    const u = await draw('randomUniform', gpu, [7, 7], [10000]).data();
    expect(Math.min(...u)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...u)).toBeLessThan(1);
  });
});

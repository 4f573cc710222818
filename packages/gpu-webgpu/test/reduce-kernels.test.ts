/**
 * The reduction kernels (sum, prod, max, min, argmax, argmin, cumsum, sort) of the WebGPU backend
 * against the CPU backend: selections, integer results and sorts bit for bit, float sums and
 * products within float32 rounding.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apply, apply1, argmax, argsort, createCpuBackend, cumsum, makeView, max, mean, memory, sort, sum, tensor, topk } from '@ml/tensor';
import type { DType, Tensor, TypedArray } from '@ml/tensor';
import { webgpu } from '../src/index.js';
import type { WebGPUBackend } from '../src/index.js';
import { rng } from './rng.js';

const cpu = createCpuBackend();
let gpu: WebGPUBackend;

beforeAll(async () => {
  gpu = await webgpu();
});
afterAll(() => gpu?.destroy());

// ---- helpers


const sizeOf = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);

type Flavor = 'spread' | 'ties' | 'special' | 'small' | 'near1';

/**
 * Random values: `spread` floats of many magnitudes (full-range integers), `ties` few distinct
 * values, `special` ties with NaN, ±∞ and ±0 mixed in, `small` integers in [-3, 3], `near1`
 * floats in [0.5, 1.5] (for products).
 */
function randomData(dtype: DType, n: number, rand: () => number, flavor: Flavor = 'spread'): TypedArray {
  if (dtype === 'bool') return Uint8Array.from({ length: n }, () => (rand() < 0.5 ? 1 : 0));
  if (dtype === 'uint8') return Uint8Array.from({ length: n }, () => Math.floor(rand() * (flavor === 'spread' ? 256 : 4)));
  if (dtype === 'int32') {
    if (flavor === 'spread') return Int32Array.from({ length: n }, () => Math.floor((rand() - 0.5) * 2 ** 32));
    if (flavor === 'small') return Int32Array.from({ length: n }, () => Math.floor(rand() * 7) - 3);
    return Int32Array.from({ length: n }, () => Math.floor(rand() * 5) - 2);
  }
  const special = [NaN, Infinity, -Infinity, 0, -0, 1, -1, 2];
  return Float32Array.from({ length: n }, () => {
    if (flavor === 'ties') return Math.floor(rand() * 5) - 2;
    if (flavor === 'special') return rand() < 0.3 ? special[Math.floor(rand() * special.length)] : Math.floor(rand() * 5) - 2;
    if (flavor === 'small') return Math.floor(rand() * 7) - 3;
    if (flavor === 'near1') return 0.5 + rand();
    return (rand() - 0.5) * 10 ** Math.floor(rand() * 6 - 3);
  });
}

/** The same values as a tensor on the CPU and on the GPU. */
function pair(dtype: DType, shape: readonly number[], data: TypedArray): [Tensor, Tensor] {
  return [tensor(data, { dtype, shape, backend: cpu }), tensor(data, { dtype, shape, backend: gpu })];
}

/** Views of `shape`, most of them not contiguous in their buffer. */
const VIEWS: Record<string, { base: (shape: number[]) => number[]; view: (t: Tensor) => Tensor }> = {
  contiguous: { base: (s) => s, view: (t) => t },
  transposed: { base: (s) => [...s].reverse(), view: (t) => t.permute(t.shape.map((_, i) => t.rank - 1 - i)) },
  stepped: { base: (s) => s.map((d) => 2 * d + 1), view: (t) => t.slice(t.shape.map(() => [1, null, 2] as [number, null, number])) },
  flipped: { base: (s) => s, view: (t) => t.flip() },
  // dim 0 read twice through a zero stride
  broadcast: {
    base: (s) => [1, ...s.slice(1)],
    view: (t) => makeView('expand', t, {}, [2, ...t.shape.slice(1)], [0, ...t.strides.slice(1)], t.offset),
  },
};

function randomView(kind: string, dtype: DType, shape: number[], rand: () => number, flavor?: Flavor): [Tensor, Tensor] {
  const { base, view } = VIEWS[kind];
  const b = base(shape);
  const [c, g] = pair(dtype, b, randomData(dtype, sizeOf(b), rand, flavor));
  const out: [Tensor, Tensor] = [view(c), view(g)];
  expect(out[0].shape).toEqual(kind === 'broadcast' ? [2, ...shape.slice(1)] : shape);
  return out;
}

/** 32-bit words of a typed array (float bit patterns; uint8 values widened). */
function words(a: TypedArray): number[] {
  if (a instanceof Float32Array) return Array.from(new Uint32Array(a.buffer, a.byteOffset, a.length));
  return Array.from(a as ArrayLike<number>);
}

/** Asserts a GPU tensor equals its CPU twin bit for bit (any NaN equals any NaN). */
async function same(c: Tensor, g: Tensor, what: string): Promise<void> {
  expect(g.shape, what).toEqual(c.shape);
  expect(g.dtype, what).toBe(c.dtype);
  const [a, b] = [await c.data(), await g.data()];
  expect(b.constructor, what).toBe(a.constructor);
  expect(b.length, what).toBe(a.length);
  const [wa, wb] = [words(a), words(b)];
  const bad = wa.findIndex((v, i) => v !== wb[i] && !(Number.isNaN(a[i]) && Number.isNaN(b[i])));
  if (bad >= 0) expect.fail(`${what}: element ${bad} differs: cpu ${a[bad]} (${wa[bad]}), gpu ${b[bad]} (${wb[bad]})`);
}

/**
 * Asserts float results agree within float32 rounding of a sum: |gpu − cpu| ≤ tol · scale, where
 * `scale` is the same op on |x| (so cancellation does not demand relative accuracy). NaN and ±∞
 * must match exactly.
 */
async function close(c: Tensor, g: Tensor, scale: Tensor, tol: number, what: string): Promise<void> {
  expect(g.shape, what).toEqual(c.shape);
  expect(g.dtype, what).toBe(c.dtype);
  const [a, b, s] = [await c.data(), await g.data(), await scale.data()];
  for (let i = 0; i < a.length; i++) {
    const ok = Number.isFinite(a[i]) ? Math.abs(a[i] - b[i]) <= tol * Math.abs(s[i]) + 1e-30 : Object.is(a[i], b[i]) || (Number.isNaN(a[i]) && Number.isNaN(b[i]));
    if (!ok) expect.fail(`${what}: element ${i} differs: cpu ${a[i]}, gpu ${b[i]} (scale ${s[i]})`);
  }
}

/** Every subset of 0..rank-1, sorted. */
function subsets(rank: number): number[][] {
  const out: number[][] = [];
  for (let m = 0; m < 1 << rank; m++) out.push([...Array(rank).keys()].filter((d) => m & (1 << d)));
  return out;
}

/** Runs `op` on both backends and compares: exactly, or for float sums/products within tolerance. */
async function checkReduce(op: string, c: Tensor, g: Tensor, axes: number[], what: string): Promise<void> {
  const rc = apply1(op, [c], { axes });
  const rg = apply1(op, [g], { axes });
  const label = `${op} ${c.dtype} ${JSON.stringify(c.shape)} axes ${JSON.stringify(axes)} ${what}`;
  if (c.dtype === 'float32' && (op === 'sum' || op === 'prod')) {
    const n = sizeOf(axes.map((a) => c.shape[a]));
    const ax = c.abs();
    const scale = apply1(op, [ax], { axes });
    await close(rc, rg, scale, (op === 'sum' ? 2e-6 : 4e-6) * Math.max(8, Math.sqrt(n) * 4), label);
    ax.dispose();
    scale.dispose();
  } else {
    await same(rc, rg, label);
  }
  rc.dispose();
  rg.dispose();
}

async function checkArg(op: string, c: Tensor, g: Tensor, axis: number, what: string): Promise<void> {
  await same(apply1(op, [c], { axis }), apply1(op, [g], { axis }), `${op} ${c.dtype} ${JSON.stringify(c.shape)} axis ${axis} ${what}`);
}

async function checkCumsum(c: Tensor, g: Tensor, axis: number, what: string): Promise<void> {
  const label = `cumsum ${c.dtype} ${JSON.stringify(c.shape)} axis ${axis} ${what}`;
  const rc = apply1('cumsum', [c], { axis });
  const rg = apply1('cumsum', [g], { axis });
  if (c.dtype === 'float32') {
    const ax = c.abs();
    const scale = apply1('cumsum', [ax], { axis });
    await close(rc, rg, scale, 2e-6 * Math.max(8, Math.sqrt(c.shape[axis]) * 4), label);
  } else {
    await same(rc, rg, label);
  }
}

async function checkSort(c: Tensor, g: Tensor, axis: number, descending: boolean, what: string): Promise<void> {
  const label = `sort ${c.dtype} ${JSON.stringify(c.shape)} axis ${axis} ${descending ? 'desc' : 'asc'} ${what}`;
  const [vc, ic] = apply('sort', [c], { axis, descending });
  const [vg, ig] = apply('sort', [g], { axis, descending });
  await same(ic, ig, `${label} indices`);
  await same(vc, vg, `${label} values`);
}

const ALL: readonly DType[] = ['float32', 'int32', 'uint8', 'bool'];

// ---- sum, prod, max, min

describe('sum, prod, max, min', () => {
  it('reduce every axis set of random views', async () => {
    const rand = rng(1);
    for (const op of ['sum', 'prod', 'max', 'min']) {
      const dtypes: DType[] = op === 'sum' || op === 'prod' ? ['float32', 'int32'] : [...ALL];
      for (const dtype of dtypes) {
        for (const kind of Object.keys(VIEWS)) {
          const flavor: Flavor = op === 'prod' ? (dtype === 'float32' ? 'near1' : 'small') : dtype === 'float32' && kind === 'flipped' ? 'special' : 'spread';
          const [c, g] = randomView(kind, dtype, [3, 4, 5], rand, flavor);
          for (const axes of subsets(3)) await checkReduce(op, c, g, axes, kind);
        }
      }
    }
  });

  it('propagate NaN, keep ±∞ and pick the first of ±0 like the CPU', async () => {
    const rand = rng(2);
    for (const op of ['sum', 'prod', 'max', 'min']) {
      for (const kind of ['contiguous', 'transposed', 'stepped']) {
        const [c, g] = randomView(kind, 'float32', [6, 7, 9], rand, 'special');
        for (const axes of subsets(3)) await checkReduce(op, c, g, axes, kind);
      }
      // ±0 only: the sign of the result is the CPU's
      const zeros = Float32Array.from({ length: 64 * 9 }, () => (rand() < 0.5 ? -0 : 0));
      const [c, g] = pair('float32', [64, 9], zeros);
      for (const axes of subsets(2)) await checkReduce(op, c, g, axes, 'zeros');
    }
  });

  it('handle reduced sizes from 1 to many, small and large outputs, in one or several passes', async () => {
    const rand = rng(3);
    const cases: [number[], number[]][] = [
      [[100_000], [0]],
      [[3, 70_000], [1]],
      [[70_000, 3], [0]],
      [[300, 500], [1]],
      [[300, 500], [0]],
      [[2000, 37], [1]],
      [[5000, 1], [1]],
      [[1, 5000], [0]],
      [[40, 30, 50], [0, 2]],
      [[2, 9000, 2], [1]],
    ];
    for (const [shape, axes] of cases) {
      for (const op of ['sum', 'max', 'min']) {
        for (const dtype of ['float32', 'int32'] as DType[]) {
          const [c, g] = pair(dtype, shape, randomData(dtype, sizeOf(shape), rand));
          await checkReduce(op, c, g, axes, 'sizes');
          c.dispose();
          g.dispose();
        }
      }
      const [c, g] = pair('float32', shape, randomData('float32', sizeOf(shape), rand, 'near1'));
      await checkReduce('prod', c, g, axes, 'sizes');
    }
    // a single NaN in a long row, in the first and in a later split segment
    for (const at of [0, 77_777]) {
      const data = randomData('float32', 100_000, rand);
      data[at] = NaN;
      const [c, g] = pair('float32', [100_000], data);
      for (const op of ['sum', 'max', 'min']) await checkReduce(op, c, g, [0], `NaN at ${at}`);
    }
  });

  it('wraps int32 sums and products, and reduces uint8/bool in their own dtype', async () => {
    const rand = rng(4);
    const [c, g] = pair('int32', [2, 50_000], randomData('int32', 100_000, rand));
    await checkReduce('sum', c, g, [1], 'wrap');
    await checkReduce('sum', c, g, [0], 'wrap');
    const big = Int32Array.from({ length: 60 }, (_, i) => (i % 3 === 0 ? 65536 : i % 3 === 1 ? -3 : 7));
    const [bc, bg] = pair('int32', [60], big);
    await checkReduce('prod', bc, bg, [0], 'wrap');
    for (const dtype of ['uint8', 'bool'] as DType[]) {
      const [uc, ug] = pair(dtype, [7, 300], randomData(dtype, 2100, rand));
      for (const op of ['sum', 'prod', 'max', 'min']) for (const axes of subsets(2)) await checkReduce(op, uc, ug, axes, 'own dtype');
    }
  });

  it('sums and multiplies over zero-size dims to the identity', async () => {
    for (const dtype of ALL) {
      const [c, g] = pair(dtype, [3, 0, 2], randomData(dtype, 0, Math.random));
      for (const op of ['sum', 'prod']) {
        await checkReduce(op, c, g, [1], 'empty');
        await checkReduce(op, c, g, [0, 1], 'empty');
      }
    }
  });
});

// ---- argmax, argmin

describe('argmax, argmin', () => {
  it('pick the first NaN, else the first of ties, along every axis of random views', async () => {
    const rand = rng(5);
    for (const op of ['argmax', 'argmin']) {
      for (const dtype of ALL) {
        for (const kind of Object.keys(VIEWS)) {
          for (const flavor of (dtype === 'float32' ? ['spread', 'ties', 'special'] : ['spread', 'ties']) as Flavor[]) {
            const [c, g] = randomView(kind, dtype, [4, 6, 5], rand, flavor);
            for (const axis of [0, 1, 2]) await checkArg(op, c, g, axis, `${kind} ${flavor}`);
          }
        }
      }
    }
  });

  it('handle rows of length 1, long rows and many rows', async () => {
    const rand = rng(6);
    const cases: [number[], number][] = [
      [[7, 1], 1],
      [[1], 0],
      [[100_000], 0],
      [[3, 50_000], 1],
      [[50_000, 3], 0],
      [[20_000, 3], 1],
      [[200, 300], 0],
    ];
    for (const [shape, axis] of cases) {
      for (const op of ['argmax', 'argmin']) {
        for (const flavor of ['spread', 'ties', 'special'] as Flavor[]) {
          const [c, g] = pair('float32', shape, randomData('float32', sizeOf(shape), rand, flavor));
          await checkArg(op, c, g, axis, flavor);
        }
        const [c, g] = pair('int32', shape, randomData('int32', sizeOf(shape), rand, 'ties'));
        await checkArg(op, c, g, axis, 'int ties');
      }
    }
    // all NaN after the first few; the maximum repeated in far-apart split segments
    const data = new Float32Array(100_000).fill(1);
    data[5000] = 3;
    data[90_000] = 3;
    const [c, g] = pair('float32', [100_000], data);
    await checkArg('argmax', c, g, 0, 'far ties');
    data[99_999] = NaN;
    data[60_000] = NaN;
    const [c2, g2] = pair('float32', [100_000], data);
    await checkArg('argmax', c2, g2, 0, 'late NaN');
    await checkArg('argmin', c2, g2, 0, 'late NaN');
  });
});

// ---- cumsum

describe('cumsum', () => {
  it('scans every axis of random views', async () => {
    const rand = rng(7);
    for (const dtype of ['float32', 'int32'] as DType[]) {
      for (const kind of Object.keys(VIEWS)) {
        for (const shape of [[3, 4, 5], [2, 37, 3], [5, 1, 20]]) {
          const [c, g] = randomView(kind, dtype, shape, rand, dtype === 'float32' && kind === 'stepped' ? 'special' : 'spread');
          for (const axis of [0, 1, 2]) await checkCumsum(c, g, axis, kind);
        }
      }
    }
  });

  it('scans short, long and many rows, wrapping int32 and propagating NaN', async () => {
    const rand = rng(8);
    const cases: [number[], number][] = [
      [[1], 0],
      [[100_000], 0],
      [[3, 10_007], 1],
      [[1000, 100], 0],
      [[1000, 100], 1],
      [[20_000, 3], 1],
      [[64, 1024], 1],
      [[2, 9000], 1],
      [[9000, 2], 0],
    ];
    for (const [shape, axis] of cases) {
      for (const dtype of ['float32', 'int32'] as DType[]) {
        const [c, g] = pair(dtype, shape, randomData(dtype, sizeOf(shape), rand));
        await checkCumsum(c, g, axis, 'sizes');
      }
    }
    const data = randomData('float32', 5000, rand);
    data[1234] = NaN;
    data[10] = Infinity;
    const [c, g] = pair('float32', [5000], data);
    await checkCumsum(c, g, 0, 'NaN');
    const inf = Float32Array.from({ length: 3000 }, (_, i) => (i === 100 ? Infinity : i === 2500 ? -Infinity : i % 7 === 0 ? -0 : 1));
    const [ic, ig] = pair('float32', [3000], inf);
    await checkCumsum(ic, ig, 0, '±∞');
    const zeros = new Float32Array(50).fill(-0);
    const [zc, zg] = pair('float32', [50], zeros);
    await checkCumsum(zc, zg, 0, '-0');
    const [wc, wg] = pair('int32', [10_000], Int32Array.from({ length: 10_000 }, () => 2 ** 31 - 7));
    await checkCumsum(wc, wg, 0, 'wrap');
  });
});

// ---- sort

describe('sort', () => {
  it('sorts every axis of random views stably, both ways', async () => {
    const rand = rng(9);
    for (const dtype of ALL) {
      for (const kind of Object.keys(VIEWS)) {
        const flavors: Flavor[] = dtype === 'float32' ? ['spread', 'ties', 'special'] : ['spread', 'ties'];
        for (const flavor of flavors) {
          const [c, g] = randomView(kind, dtype, [5, 7, 3], rand, flavor);
          for (const axis of [0, 1, 2]) for (const desc of [false, true]) await checkSort(c, g, axis, desc, `${kind} ${flavor}`);
        }
      }
    }
  });

  it('sorts rows of every length: 1, powers of two and around the workgroup block', async () => {
    const rand = rng(10);
    const cases: [number[], number][] = [
      [[9, 1], 1],
      [[1], 0],
      [[3], 0],
      [[100], 0],
      [[20_000, 3], 1],
      [[3, 20_000], 0],
      [[8, 512], 1],
      [[4, 1023], 1],
      [[3, 1024], 1],
      [[2, 1025], 1],
      [[4100, 2], 0],
      [[3, 5000], 1],
    ];
    for (const [shape, axis] of cases) {
      for (const desc of [false, true]) {
        const flavor: Flavor = desc ? 'special' : 'spread';
        const [c, g] = pair('float32', shape, randomData('float32', sizeOf(shape), rand, flavor));
        await checkSort(c, g, axis, desc, flavor);
        const [ic, ig] = pair('int32', shape, randomData('int32', sizeOf(shape), rand, 'ties'));
        await checkSort(ic, ig, axis, desc, 'int ties');
      }
    }
    const [lc, lg] = pair('float32', [100_000], randomData('float32', 100_000, rand, 'special'));
    await checkSort(lc, lg, 0, true, 'long');
    const [tc, tg] = pair('float32', [100_000], randomData('float32', 100_000, rand, 'spread'));
    await checkSort(tc, tg, 0, false, 'long');
    // a long transposed row, and the extreme int32 values next to the padding
    const [c, g] = randomView('transposed', 'float32', [3, 6000], rand, 'special');
    for (const desc of [false, true]) await checkSort(c, g, 1, desc, 'transposed long');
    const ext = Int32Array.from({ length: 3000 }, (_, i) => [2 ** 31 - 1, -(2 ** 31), 0, -1][i % 4]);
    const [ec, eg] = pair('int32', [3000], ext);
    for (const desc of [false, true]) await checkSort(ec, eg, 0, desc, 'extremes');
    const [bc, bg] = pair('bool', [5000], randomData('bool', 5000, rand));
    for (const desc of [false, true]) await checkSort(bc, bg, 0, desc, 'bool long');
  });
});

// ---- through the public ops

describe('the public ops on the GPU', () => {
  it('match the CPU for sum, mean, max, argmax, cumsum, sort, argsort and topk', async () => {
    const rand = rng(11);
    const [c, g] = randomView('transposed', 'float32', [6, 50], rand, 'special');
    await close(sum(c, 1), sum(g, 1), sum(c.abs(), 1), 1e-5, 'sum');
    const [bc, bg] = pair('bool', [4, 9], randomData('bool', 36, rand));
    await same(sum(bc, 0), sum(bg, 0), 'sum of bool');
    await close(mean(c, [0, 1]), mean(g, [0, 1]), mean(c.abs(), [0, 1]), 1e-5, 'mean');
    await same(max(c, 0, true), max(g, 0, true), 'max keepdims');
    await same(argmax(c), argmax(g), 'argmax of all');
    await close(cumsum(c, 1), cumsum(g, 1), cumsum(c.abs(), 1), 1e-5, 'cumsum');
    await same(sort(c, 1, true), sort(g, 1, true), 'sort');
    await same(argsort(c, 0), argsort(g, 0), 'argsort');
    const [tc, tg] = [topk(c, 5), topk(g, 5)];
    await same(tc.values, tg.values, 'topk values');
    await same(tc.indices, tg.indices, 'topk indices');
  });

  it('frees its scratch buffers', async () => {
    const rand = rng(12);
    const [, g] = pair('float32', [2, 9000], randomData('float32', 18_000, rand));
    const before = memory(gpu).buffers;
    for (const op of ['sum', 'argmax', 'cumsum', 'sort']) {
      const outs = op === 'sort' ? apply('sort', [g], { axis: 1, descending: false }) : [apply1(op, [g], op === 'sum' ? { axes: [1] } : { axis: 1 })];
      await outs[0].data();
      for (const o of outs) o.dispose();
    }
    expect(memory(gpu).buffers).toBe(before);
  });
});

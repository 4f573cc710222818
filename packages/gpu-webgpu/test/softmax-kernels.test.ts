/**
 * The softmax and log-softmax kernels of the WebGPU backend against float64 loops of the textbook
 * formulas: rows from 1 to 100 000 elements, every axis, strided views, NaN and ±∞ rows, and
 * logits far beyond what exp alone can hold in float32.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCpuBackend, logSoftmax, makeView, memory, scope, softmax, tensor } from '@ml/tensor';
import type { Tensor } from '@ml/tensor';
import { webgpu } from '../src/index.js';
import type { WebGPUBackend } from '../src/index.js';
import { rng } from './rng.js';

const cpu = createCpuBackend();
let gpu: WebGPUBackend;

beforeAll(async () => {
  gpu = await webgpu();
});
afterAll(() => gpu?.destroy());

// ---- the reference

const sizeOf = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);

/**
 * softmax (or log-softmax) along `axis` of a dense row-major array, in float64:
 *   m = max x (NaN if the row has a NaN)
 *   softmax:     yᵢ = exp(xᵢ − m) / Σⱼ exp(xⱼ − m)
 *   log-softmax: yᵢ = (xᵢ − c) − log Σⱼ exp(xⱼ − c), c = m if m is finite, else 0
 */
function reference(x: ArrayLike<number>, shape: readonly number[], axis: number, log: boolean): Float64Array {
  const n = shape[axis];
  const inner = sizeOf(shape.slice(axis + 1));
  const outer = sizeOf(shape.slice(0, axis));
  const y = new Float64Array(x.length);
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < inner; i++) {
      const at = (j: number) => (o * n + j) * inner + i;
      let m = -Infinity;
      for (let j = 0; j < n; j++) m = Number.isNaN(x[at(j)]) || Number.isNaN(m) ? NaN : Math.max(m, x[at(j)]);
      const c = log && !Number.isFinite(m) ? 0 : m;
      let s = 0;
      for (let j = 0; j < n; j++) s += Math.exp(x[at(j)] - c);
      for (let j = 0; j < n; j++) y[at(j)] = log ? x[at(j)] - c - Math.log(s) : Math.exp(x[at(j)] - c) / s;
    }
  }
  return y;
}

/** Tolerances: softmax relative (exp of x − m rounded in float32), log-softmax mostly absolute. */
const TOL = { softmax: { atol: 1e-37, rtol: 2e-5 }, logSoftmax: { atol: 1e-5, rtol: 1e-6 } };

type Op = 'softmax' | 'logSoftmax';
const OPS: readonly Op[] = ['softmax', 'logSoftmax'];
const run = (op: Op, x: Tensor, axis: number) => (op === 'softmax' ? softmax(x, axis) : logSoftmax(x, axis));

/**
 * Runs `op` on the GPU tensor `g` and compares with the reference computed from the values of its
 * CPU twin `c` (the same view of the same data): NaN and ±∞ exactly, finite values within TOL.
 */
async function check(op: Op, c: Tensor, g: Tensor, axis: number, what: string): Promise<void> {
  const label = `${op} ${JSON.stringify(g.shape)} axis ${axis} ${what}`;
  const y = run(op, g, axis);
  expect(y.shape, label).toEqual(g.shape);
  expect(y.dtype, label).toBe('float32');
  expect(y.backend, label).toBe(gpu);
  const got = await y.data();
  y.dispose();
  const want = reference(await c.data(), c.shape, axis, op === 'logSoftmax');
  const { atol, rtol } = TOL[op];
  for (let i = 0; i < want.length; i++) {
    const r = Math.fround(want[i]);
    const ok = Number.isFinite(r) ? Math.abs(got[i] - r) <= atol + rtol * Math.abs(r) : Object.is(got[i], r) || (Number.isNaN(r) && Number.isNaN(got[i]));
    if (!ok) expect.fail(`${label}: element ${i} is ${got[i]}, float64 reference ${want[i]}`);
  }
}

/** The same float32 values as a tensor on the CPU and on the GPU. */
function pair(shape: readonly number[], data: Float32Array): [Tensor, Tensor] {
  return [tensor(data, { shape, backend: cpu }), tensor(data, { shape, backend: gpu })];
}

const randomLogits = (n: number, rand: () => number, spread = 20) => Float32Array.from({ length: n }, () => (rand() - 0.5) * spread);

async function checkAll(c: Tensor, g: Tensor, axes: readonly number[], what: string): Promise<void> {
  for (const op of OPS) for (const axis of axes) await check(op, c, g, axis, what);
}

// ---- shapes and axes

describe('softmax and logSoftmax kernels: shapes and axes', () => {
  it('normalize long rows (5 000 and 100 000 elements)', async () => {
    const rand = rng(1);
    for (const shape of [[5000], [100_000], [2, 100_000], [3, 5000]]) {
      const [c, g] = pair(shape, randomLogits(sizeOf(shape), rand));
      await checkAll(c, g, [shape.length - 1], 'long rows');
    }
  });

  it('normalize many short rows, for every threads-per-row count', async () => {
    const rand = rng(2);
    for (const n of [1, 2, 3, 8, 9, 17, 64, 65, 200, 1023, 2049]) {
      const shape = [Math.max(4, Math.ceil(6000 / n)), n];
      const [c, g] = pair(shape, randomLogits(sizeOf(shape), rand));
      await checkAll(c, g, [1], 'short rows');
    }
  });

  it('normalize along axis 0, a middle axis and the last axis of 3-d tensors', async () => {
    const rand = rng(3);
    for (const shape of [[7, 5, 300], [64, 3, 129], [2, 700, 3], [1, 9, 1], [5000, 2, 2]]) {
      const [c, g] = pair(shape, randomLogits(sizeOf(shape), rand));
      await checkAll(c, g, [0, 1, 2], '3-d');
    }
  });

  it('read transposed, sliced, offset, flipped and broadcast views', async () => {
    const rand = rng(4);
    const views: Record<string, { base: number[]; view: (t: Tensor) => Tensor }> = {
      transposed: { base: [40, 5, 6], view: (t) => t.permute([2, 1, 0]) },
      'transposed 2-d': { base: [3000, 7], view: (t) => t.transpose() },
      stepped: { base: [13, 11, 81], view: (t) => t.slice([[1, null, 2], [1, null, 2], [1, null, 2]]) },
      offset: { base: [8, 9, 50], view: (t) => t.slice([[2, 8], [3, 8], [5, 45]]) },
      flipped: { base: [6, 5, 40], view: (t) => t.flip() },
      // dim 0 read twice through a zero stride
      broadcast: { base: [1, 5, 40], view: (t) => makeView('expand', t, {}, [2, 5, 40], [0, ...t.strides.slice(1)], t.offset) },
    };
    for (const [kind, { base, view }] of Object.entries(views)) {
      const [cb, gb] = pair(base, randomLogits(sizeOf(base), rand));
      const [c, g] = [view(cb), view(gb)];
      await checkAll(c, g, [...c.shape.keys()], kind);
    }
  });

  it('cast integer inputs to float32', async () => {
    const data = Int32Array.from({ length: 600 }, (_, i) => (i * 7919) % 23 - 11);
    const c = tensor(data, { shape: [20, 30], backend: cpu });
    const g = tensor(data, { shape: [20, 30], backend: gpu });
    await checkAll(c, g, [0, 1], 'int32');
  });
});

// ---- special values

describe('softmax and logSoftmax kernels: special values', () => {
  it('give NaN for rows with NaN or of −∞, and follow the shift rule for rows with +∞', async () => {
    const inf = Infinity;
    const rows: number[][] = [
      [1, NaN, 2, 3],
      [NaN, NaN, NaN, NaN],
      [-inf, -inf, -inf, -inf],
      [inf, 1, -2, -inf],
      [inf, inf, 0, 0],
      [inf, NaN, 0, -inf],
      [-inf, 2, -inf, 3],
      [0, -0, 0, -0],
      [1, 2, 3, 4],
    ];
    const data = Float32Array.from(rows.flat());
    const [c, g] = pair([rows.length, 4], data);
    await checkAll(c, g, [1], 'special rows');
    // the rows as columns: each row strided through the output
    await checkAll(c.transpose().contiguous(), g.transpose().contiguous(), [0], 'special columns');

    // the textbook values of a few rows, stated directly
    const sm = await softmax(g, 1).data();
    const ls = await logSoftmax(g, 1).data();
    for (const r of [0, 1, 2, 3, 4, 5]) for (let j = 0; j < 4; j++) expect(sm[r * 4 + j], `softmax row ${r}`).toBeNaN();
    for (const r of [0, 1, 2, 5]) for (let j = 0; j < 4; j++) expect(ls[r * 4 + j], `logSoftmax row ${r}`).toBeNaN();
    // log-softmax shifts a row with +∞ by 0: (x − 0) − log ∞ is NaN at +∞ and −∞ elsewhere
    expect(Array.from(ls.slice(12, 16))).toEqual([NaN, -inf, -inf, -inf]);
    // −∞ among finite logits: weight exactly 0 (log weight −∞)
    expect([sm[24], sm[26], ls[24], ls[26]]).toEqual([0, 0, -inf, -inf]);
    expect(sm[25]).toBeCloseTo(Math.exp(-1) / (1 + Math.exp(-1)), 6);
    expect(sm[27]).toBeCloseTo(1 / (1 + Math.exp(-1)), 6);
  });

  it('find a NaN or +∞ anywhere in a long row', async () => {
    const rand = rng(5);
    for (const n of [300, 5000]) {
      for (const special of [NaN, Infinity, -Infinity]) {
        const rows = 6;
        const data = randomLogits(rows * n, rand);
        // one special value per row, at the first, last, and some other positions
        for (let r = 0; r < rows; r++) data[r * n + [0, n - 1, 1, 255, 256, Math.floor(n / 2)][r]] = special;
        const [c, g] = pair([rows, n], data);
        await checkAll(c, g, [1], `one ${special} per row`);
        const [ct, gt] = [c.transpose(), g.transpose()];
        await checkAll(ct, gt, [0], `one ${special} per column`);
      }
      // a whole row of −∞
      const data = randomLogits(3 * n, rand);
      data.fill(-Infinity, n, 2 * n);
      const [c, g] = pair([3, n], data);
      await checkAll(c, g, [1], 'a row of −∞');
    }
  });

  it('stay exact for logits far beyond the range of exp (±1e30, ±80, ±100, ±3e38)', async () => {
    const rand = rng(6);
    const pick = (values: number[]) => () => values[Math.floor(rand() * values.length)];
    const cases: [string, number[], () => number][] = [
      ['±1e30', [50, 7], pick([1e30, -1e30, 0, 1e30 * (1 + 2 ** -20)])],
      ['±80', [20, 5000], () => (rand() < 0.5 ? 80 : -80) + rand()],
      ['all 100', [3, 5000], () => 100],
      ['around 100', [40, 33], () => 100 + rand() * 4],
      ['around -100', [40, 33], () => -100 - rand() * 4],
      ['±3e38', [30, 6], pick([3e38, -3e38, 1, -1])],
    ];
    for (const [what, shape, value] of cases) {
      const [c, g] = pair(shape, Float32Array.from({ length: sizeOf(shape) }, value));
      await checkAll(c, g, [0, 1], what);
    }
    // softmax of a row of equal huge logits is uniform, not ∞/∞
    const [, g] = pair([4, 5000], new Float32Array(20_000).fill(1e30));
    const sm = await softmax(g, 1).data();
    expect(sm.every((v) => Math.abs(v * 5000 - 1) < 1e-6)).toBe(true);
  });
});

// ---- memory

describe('softmax and logSoftmax kernels: memory', () => {
  it('leave no tensors or buffers behind', async () => {
    const rand = rng(7);
    const x = tensor(randomLogits(3 * 700, rand), { shape: [3, 700], backend: gpu });
    const before = memory(gpu);
    const gpuBefore = gpu.memory();
    for (let k = 0; k < 3; k++) {
      const s = scope(() => softmax(x.transpose(), 0).add(logSoftmax(x, 1).transpose()).sum());
      await s.data();
      s.dispose();
    }
    expect(memory(gpu)).toEqual(before);
    expect(gpu.memory()).toEqual(gpuBefore);
    x.dispose();
  });
});

import { describe, expect, it } from 'vitest';
import type { View } from '../src/backend.js';
import type { TypedArray } from '../src/dtype.js';
import { RANDOM_KERNELS } from '../src/cpu/random.js';
import { memory } from '../src/engine.js';
import { tensor } from '../src/ops/create.js';
import * as random from '../src/random/index.js';
import { bits32, fillUniform32, fillUniform64, threefry2x32 } from '../src/random/threefry.js';

const hex = (x: number) => x.toString(16).padStart(8, '0');
const values = (t: { dataSync(): TypedArray }) => Array.from(t.dataSync());

// ---- statistics helpers

/** Kolmogorov–Smirnov statistic D = sup |F_n(x) − F(x)| of `xs` against the CDF `cdf`. */
function ksStatistic(xs: number[], cdf: (x: number) => number): number {
  const s = [...xs].sort((a, b) => a - b);
  const n = s.length;
  let d = 0;
  for (let i = 0; i < n; i++) {
    const f = cdf(s[i]);
    d = Math.max(d, (i + 1) / n - f, f - i / n);
  }
  return d;
}

/**
 * KS critical value at α = 0.001: K/(√n + 0.12 + 0.11/√n) with K = √(−ln(α/2)/2) = 1.9495, the
 * asymptotic Kolmogorov quantile with Stephens' (1970) finite-n correction.
 */
function ksCritical(n: number): number {
  const k = Math.sqrt(-Math.log(0.001 / 2) / 2);
  return k / (Math.sqrt(n) + 0.12 + 0.11 / Math.sqrt(n));
}

/**
 * Upper 0.001 critical values of the chi-square distribution for df = 1..10 (textbook table, e.g.
 * NIST/SEMATECH e-Handbook of Statistical Methods, §1.3.6.7.4).
 */
const CHI2_CRIT_001 = [NaN, 10.828, 13.816, 16.266, 18.467, 20.515, 22.458, 24.322, 26.124, 27.877, 29.588];

/** Pearson's statistic Σ (observed − expected)² / expected over categories 0..k-1. */
function chiSquare(samples: ArrayLike<number>, probs: number[]): number {
  const counts = new Array<number>(probs.length).fill(0);
  for (let i = 0; i < samples.length; i++) counts[samples[i]]++;
  return probs.reduce((acc, p, j) => {
    const e = p * samples.length;
    return acc + (counts[j] - e) ** 2 / e;
  }, 0);
}

function expectChiSquareOk(samples: ArrayLike<number>, probs: number[]): void {
  const df = probs.length - 1;
  expect(chiSquare(samples, probs)).toBeLessThan(CHI2_CRIT_001[df]);
}

/** erf by Abramowitz & Stegun 7.1.26 (|error| < 1.5e-7, far below the KS tolerances here). */
function erf(x: number): number {
  const t = 1 / (1 + 0.3275911 * Math.abs(x));
  const y = 1 - t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429)))) * Math.exp(-x * x);
  return x < 0 ? -y : y;
}
const normCdf = (x: number) => 0.5 * (1 + erf(x / Math.SQRT2));
const normPdf = (x: number) => Math.exp(-x * x / 2) / Math.sqrt(2 * Math.PI);

// ---- the generator

describe('threefry2x32', () => {
  // Random123 known-answer vectors (kat_vectors, "threefry2x32 20 ctr0 ctr1 key0 key1 → out0 out1").
  it('matches the Random123 known-answer vectors', () => {
    expect(threefry2x32(0, 0, 0, 0).map(hex)).toEqual(['6b200159', '99ba4efe']);
    const m = 0xffffffff;
    expect(threefry2x32(m, m, m, m).map(hex)).toEqual(['1cb996fc', 'bb002be7']);
    // pi digits: ctr = (243f6a88, 85a308d3), key = (13198a2e, 03707344)
    expect(threefry2x32(0x13198a2e, 0x03707344, 0x243f6a88, 0x85a308d3).map(hex)).toEqual(['c4923a9c', '483df7a0']);
  });

  it('is a pure function returning uint32 words', () => {
    const [a, b] = threefry2x32(1, 2, 3, 4);
    expect(threefry2x32(1, 2, 3, 4)).toEqual([a, b]);
    for (const w of [a, b]) expect(Number.isInteger(w) && w >= 0 && w < 2 ** 32).toBe(true);
  });
});

describe('keys (JAX partitionable scheme)', () => {
  it('builds keys from seeds like jax.random.key', () => {
    expect(random.key(0)).toEqual([0, 0]);
    expect(random.key(42)).toEqual([0, 42]);
    expect(random.key(2 ** 32 + 5)).toEqual([1, 5]);
    expect(random.key(2147483647 + 100)).toEqual([0, 2147483747]);
    // Negative seeds: 64-bit two's complement (JAX's values with jax_enable_x64).
    expect(random.key(-1)).toEqual([4294967295, 4294967295]);
    expect(random.key(-3)).toEqual([4294967295, 4294967293]);
    expect(random.key(-2147483648 - 100)).toEqual([4294967295, 2147483548]);
    expect(random.key(2n ** 64n - 1n)).toEqual([4294967295, 4294967295]);
    expect(random.key(-1n)).toEqual(random.key(-1));
    expect(Object.isFrozen(random.key(1))).toBe(true);
  });

  it('folds like jax.random.fold_in (value from JAX test_random: fold_in(key(0), 4))', () => {
    expect(random.fold(random.key(0), 4)).toEqual([2285895361, 433833334]);
    expect(random.fold(random.key(0), -1)).toEqual(random.fold(random.key(0), 0xffffffff));
  });

  it('splits so that split(key, n)[i] = fold(key, i) = threefry(key, (0, i))', () => {
    const k = random.key(72);
    const s = random.split(k, 3);
    s.forEach((ki, i) => expect(ki).toEqual(random.fold(k, i)));
    expect(random.split(random.key(0), 1)[0]).toEqual([0x6b200159, 0x99ba4efe]);
  });

  // Cross-check against an independent implementation: @jax-js/jax 0.1.25 (random.split, random.bits).
  it('matches @jax-js/jax for split and random bits', () => {
    expect(random.split(random.key(0), 4)).toEqual([
      [1797259609, 2579123966],
      [928981903, 3453687069],
      [4146024105, 2718843009],
      [2467461003, 3840466878],
    ]);
    expect(random.split(random.key(7), 3)[1]).toEqual([195045567, 4062205631]);
    expect([0, 1, 2].map((i) => bits32(0, 1701, i))).toEqual([1111271205, 2679469115, 974515252]);
  });

  it('gives distinct keys', () => {
    const k = random.key(123);
    const keys = [...random.split(k, 500), ...Array.from({ length: 500 }, (_, i) => random.fold(k, 1000 + i)), k];
    expect(new Set(keys.map((x) => x.join(','))).size).toBe(keys.length);
    expect(random.split(k, 0)).toEqual([]);
  });
});

describe('randomUniform kernel', () => {
  const view = (storage: TypedArray, dtype: 'float32' | 'float64'): View<TypedArray> => ({
    storage, dtype, shape: [storage.length], strides: [1], offset: 0,
  });

  it('writes JAX float32 uniforms (cross-checked with @jax-js/jax uniform)', () => {
    const out = new Float32Array(5);
    RANDOM_KERNELS.randomUniform([], [view(out, 'float32')], { key: [0, 42], shape: [5], dtype: 'float32' });
    expect(Array.from(out)).toEqual([0.48870956897735596, 0.6797971725463867, 0.6162714958190918, 0.5610160827636719, 0.4506446123123169]);
    const big = new Float32Array(65538);
    fillUniform32(0, 3, big);
    expect(Array.from(big.slice(65534))).toEqual([0.5546655654907227, 0.5981981754302979, 0.09507787227630615, 0.651382565498352]);
  });

  it('builds float32 values as bitcast((bits >>> 9) | 0x3f800000) − 1', () => {
    const out = new Float32Array(64);
    fillUniform32(9, 8, out);
    const f = new Float32Array(1);
    const u = new Uint32Array(f.buffer);
    out.forEach((x, i) => {
      u[0] = (bits32(9, 8, i) >>> 9) | 0x3f800000;
      expect(x).toBe(Math.fround(f[0] - 1));
    });
  });

  it('builds float64 values from the 64-bit word x0·2^32 + x1 like JAX', () => {
    const out = new Float64Array(64);
    RANDOM_KERNELS.randomUniform([], [view(out, 'float64')], { key: [5, 6], shape: [64], dtype: 'float64' });
    const f = new Float64Array(1);
    const u = new BigUint64Array(f.buffer);
    out.forEach((x, i) => {
      const [x0, x1] = threefry2x32(5, 6, 0, i);
      u[0] = (((BigInt(x0) << 32n) | BigInt(x1)) >> 12n) | 0x3ff0000000000000n;
      expect(x).toBe(f[0] - 1);
    });
    const other = new Float64Array(64);
    fillUniform64(5, 6, other);
    expect(other).toEqual(out);
  });
});

// ---- draws

describe('uniform', () => {
  const k = random.key(2024);

  it('is deterministic per key and differs between keys', () => {
    expect(values(random.uniform(k, [100]))).toEqual(values(random.uniform(k, [100])));
    expect(values(random.uniform(k, [100]))).not.toEqual(values(random.uniform(random.key(2025), [100])));
  });

  it('depends only on the flat index (shape- and prefix-invariant)', () => {
    const flat = values(random.uniform(k, [6]));
    expect(values(random.uniform(k, [2, 3]))).toEqual(flat);
    expect(values(random.uniform(k, [4]))).toEqual(flat.slice(0, 4));
  });

  it('matches @jax-js/jax on a split key', () => {
    const u = random.uniform(random.split(random.key(7), 3)[1], [2, 3]);
    expect(u.shape).toEqual([2, 3]);
    expect(u.dtype).toBe('float32');
    expect(values(u)).toEqual([0.6751335859298706, 0.8261764049530029, 0.39398670196533203, 0.4243201017379761, 0.20956134796142578, 0.5232383012771606]);
  });

  it('has shapes, scalars and empty draws', () => {
    expect(random.uniform(k).shape).toEqual([]);
    expect(random.uniform(k, [0, 3]).size).toBe(0);
    expect(random.uniform(k, [2], { dtype: 'float64' }).dtype).toBe('float64');
  });

  for (const dtype of ['float32', 'float64'] as const) {
    it(`passes a KS test against U(0, 1) (${dtype})`, () => {
      const xs = values(random.uniform(k, [20000], { dtype }));
      expect(Math.min(...xs)).toBeGreaterThanOrEqual(0);
      expect(Math.max(...xs)).toBeLessThan(1);
      expect(ksStatistic(xs, (x) => x)).toBeLessThan(ksCritical(xs.length));
    });
  }

  it('scales to [minval, maxval) and passes a KS test there', () => {
    const xs = values(random.uniform(k, [20000], { minval: -3, maxval: 5 }));
    expect(Math.min(...xs)).toBeGreaterThanOrEqual(-3);
    expect(Math.max(...xs)).toBeLessThan(5);
    expect(ksStatistic(xs, (x) => (x + 3) / 8)).toBeLessThan(ksCritical(xs.length));
  });
});

describe('normal', () => {
  for (const dtype of ['float32', 'float64'] as const) {
    it(`passes a KS test against N(0, 1) (${dtype})`, () => {
      const xs = values(random.normal(random.key(11), [20000], { dtype }));
      expect(xs.every(Number.isFinite)).toBe(true);
      expect(ksStatistic(xs, normCdf)).toBeLessThan(ksCritical(xs.length));
    });
  }

  it('is deterministic and keyed', () => {
    const a = random.normal(random.key(3), [3, 4]);
    expect(a.shape).toEqual([3, 4]);
    expect(values(a)).toEqual(values(random.normal(random.key(3), [3, 4])));
    expect(values(a)).not.toEqual(values(random.normal(random.key(4), [3, 4])));
  });
});

describe('truncatedNormal', () => {
  const cases: [number, number][] = [[-0.3, 0.3], [-2, 2], [0, 2], [1, Infinity]];
  for (const [a, b] of cases) {
    it(`stays in (${a}, ${b}) with the closed-form mean and CDF`, () => {
      const n = 20000;
      const xs = values(random.truncatedNormal(random.key(5), a, b, [n]));
      expect(xs.every((x) => x > a && x < b)).toBe(true);
      // Z = Φ(b) − Φ(a); mean = (φ(a) − φ(b))/Z; var = 1 + (aφ(a) − bφ(b))/Z − mean².
      const z = normCdf(b) - normCdf(a);
      const mean = (normPdf(a) - normPdf(b)) / z;
      const tb = Number.isFinite(b) ? b * normPdf(b) : 0;
      const sd = Math.sqrt(1 + (a * normPdf(a) - tb) / z - mean * mean);
      const sampleMean = xs.reduce((s, x) => s + x, 0) / n;
      expect(Math.abs(sampleMean - mean)).toBeLessThan(3.29 * sd / Math.sqrt(n)); // two-sided α = 0.001
      const cdf = (x: number) => (normCdf(x) - normCdf(a)) / z;
      expect(ksStatistic(xs, cdf)).toBeLessThan(ksCritical(n));
    });
  }

  it('supports float64', () => {
    const t = random.truncatedNormal(random.key(6), -1, 1, [1000], { dtype: 'float64' });
    expect(t.dtype).toBe('float64');
    expect(values(t).every((x) => x > -1 && x < 1)).toBe(true);
  });
});

describe('bernoulli', () => {
  it('has the right frequency (chi-square, df = 1)', () => {
    const xs = random.bernoulli(random.key(8), 0.3, [20000]);
    expect(xs.dtype).toBe('bool');
    expectChiSquareOk(xs.dataSync(), [0.7, 0.3]);
  });

  it('broadcasts a tensor p over shape', () => {
    const xs = random.bernoulli(random.key(9), tensor([0.2, 0.9]), [10000, 2]);
    expect(xs.shape).toEqual([10000, 2]);
    const d = xs.dataSync();
    const col = (j: number) => Array.from({ length: 10000 }, (_, i) => d[2 * i + j]);
    expectChiSquareOk(col(0), [0.8, 0.2]);
    expectChiSquareOk(col(1), [0.1, 0.9]);
    expect(random.bernoulli(random.key(9), tensor([0.5, 0.5])).shape).toEqual([2]);
  });

  it('handles p = 0 and p = 1', () => {
    expect(values(random.bernoulli(random.key(1), 0, [100])).every((x) => x === 0)).toBe(true);
    expect(values(random.bernoulli(random.key(1), 1, [100])).every((x) => x === 1)).toBe(true);
  });
});

describe('categorical', () => {
  it('samples softmax(logits) (chi-square, df = 3)', () => {
    const p = [0.1, 0.2, 0.3, 0.4];
    const logits = tensor(p.map((x) => Math.log(x) - 42)); // unnormalized
    const xs = random.categorical(random.key(10), logits, { shape: [20000] });
    expect(xs.dtype).toBe('int32');
    expect(xs.shape).toEqual([20000]);
    expectChiSquareOk(xs.dataSync(), p);
  });

  it('draws per batch row along axis 1 and axis 0', () => {
    const p = [[0.5, 0.5], [0.1, 0.9]];
    const check = (xs: TypedArray, row: number, probs: number[]) =>
      expectChiSquareOk(Array.from({ length: 10000 }, (_, i) => xs[2 * i + row]), probs);
    const byRow = random.categorical(random.key(12), tensor(p).log(), { axis: 1, shape: [10000, 2] });
    expect(byRow.shape).toEqual([10000, 2]);
    check(byRow.dataSync(), 0, p[0]);
    check(byRow.dataSync(), 1, p[1]);
    // axis 0: the categories run down the columns, so column j has probabilities p[·][j] / Σ.
    const byCol = random.categorical(random.key(13), tensor(p).log(), { axis: 0, shape: [10000, 2] });
    check(byCol.dataSync(), 0, [0.5 / 0.6, 0.1 / 0.6]);
    check(byCol.dataSync(), 1, [0.5 / 1.4, 0.9 / 1.4]);
    expect(random.categorical(random.key(1), tensor(p).log()).shape).toEqual([2]);
  });
});

describe('randint', () => {
  it('is uniform on [minval, maxval) (chi-square, df = 9)', () => {
    const xs = random.randint(random.key(14), [20000], -3, 7);
    expect(xs.dtype).toBe('int32');
    const d = Array.from(xs.dataSync());
    expect(Math.min(...d)).toBe(-3);
    expect(Math.max(...d)).toBe(6);
    expectChiSquareOk(d.map((x) => x + 3), new Array(10).fill(0.1));
  });

  it('covers the full int32 range', () => {
    const d = values(random.randint(random.key(15), [1000], -(2 ** 31), 2 ** 31));
    expect(d.every((x) => Number.isInteger(x) && x >= -(2 ** 31) && x < 2 ** 31)).toBe(true);
    expect(d.some((x) => x < -(2 ** 30)) && d.some((x) => x > 2 ** 30)).toBe(true);
    expect(values(random.randint(random.key(15), [50], 4, 5)).every((x) => x === 4)).toBe(true);
  });
});

describe('permutation', () => {
  const sorted = (a: number[]) => [...a].sort((x, y) => x - y);

  it('returns a permutation of 0..n-1', () => {
    for (const n of [0, 1, 2, 10, 5000]) {
      const p = random.permutation(random.key(n), n);
      expect(p.dtype).toBe('int32');
      expect(sorted(values(p))).toEqual(Array.from({ length: n }, (_, i) => i));
    }
    expect(values(random.permutation(random.key(1), 100))).not.toEqual(Array.from({ length: 100 }, (_, i) => i));
  });

  it('is uniform over the 6 orders of 3 items (chi-square, df = 5)', () => {
    const root = random.key(16);
    const orders = Array.from({ length: 3000 }, (_, i) => {
      const [a, b] = values(random.permutation(random.fold(root, i), 3));
      return a * 2 + (b > (a === 0 ? 1 : 0) ? 1 : 0); // 0..5 indexes the order
    });
    expectChiSquareOk(orders, new Array(6).fill(1 / 6));
  });

  it('permutes the first axis of a tensor', () => {
    const x = tensor([[0, 1], [2, 3], [4, 5], [6, 7], [8, 9]]);
    const y = random.permutation(random.key(17), x);
    expect(y.shape).toEqual([5, 2]);
    const rows = (y.arraySync() as number[][]);
    expect(rows.every(([a, b]) => b === a + 1)).toBe(true);
    expect(sorted(rows.map((r) => r[0]))).toEqual([0, 2, 4, 6, 8]);
    expect(rows.map((r) => r[0] / 2)).toEqual(values(random.permutation(random.key(17), 5)));
  });
});

describe('memory', () => {
  it('frees every intermediate tensor of a composite draw', () => {
    const k = random.key(1);
    const logits = tensor([[0, 1, 2], [2, 1, 0]]);
    const x = tensor([[1, 2], [3, 4], [5, 6]]);
    const p = logits.sigmoid();
    const draws = [
      () => random.uniform(k, [4], { minval: -1, maxval: 1 }),
      () => random.normal(k, [4]),
      () => random.truncatedNormal(k, -1, 1, [4]),
      () => random.bernoulli(k, 0.5, [4]),
      () => random.bernoulli(k, p),
      () => random.categorical(k, logits, { shape: [3, 2] }),
      () => random.randint(k, [4], 0, 10),
      () => random.permutation(k, 1000),
      () => random.permutation(k, x),
    ];
    for (const draw of draws) {
      const before = memory();
      draw().dispose();
      const after = memory();
      expect([after.tensors, after.buffers, after.bytes]).toEqual([before.tensors, before.buffers, before.bytes]);
    }
  });
});

describe('argument errors', () => {
  const k = random.key(0);

  it('rejects bad seeds, keys and fold data', () => {
    expect(() => random.key(1.5)).toThrow(/^key: seed must be a safe integer/);
    expect(() => random.key(2 ** 53)).toThrow(/^key: seed/);
    expect(() => random.key(2n ** 64n)).toThrow(/^key: seed .* 64 bits/);
    expect(() => random.split([1, 2, 3] as unknown as random.Key)).toThrow(/^split: key must be a pair of uint32/);
    expect(() => random.uniform([-1, 0] as unknown as random.Key)).toThrow(/^uniform: key/);
    expect(() => random.split(k, -1)).toThrow(/^split: n must be a non-negative integer, got -1/);
    expect(() => random.fold(k, 1.5)).toThrow(/^fold: data must be an integer/);
    expect(() => random.fold(k, 2 ** 32)).toThrow(/^fold: data/);
  });

  it('rejects bad shapes, dtypes and ranges', () => {
    expect(() => random.uniform(k, [2, -1])).toThrow(/^uniform: shape must contain non-negative integers/);
    expect(() => random.normal(k, [1.5])).toThrow(/^normal: shape/);
    expect(() => random.uniform(k, [2], { dtype: 'int32' as 'float32' })).toThrow(/^uniform: dtype must be float32 or float64, got int32/);
    expect(() => random.uniform(k, [2], { minval: 1, maxval: 1 })).toThrow('uniform: maxval (1) must be greater than minval (1)');
    expect(() => random.uniform(k, [2], { maxval: NaN })).toThrow(/^uniform: maxval must be a finite number/);
  });

  it('rejects bad probabilities, logits and integer ranges', () => {
    expect(() => random.bernoulli(k, 1.5)).toThrow('bernoulli: p must be in [0, 1], got 1.5');
    expect(() => random.bernoulli(k, -0.1)).toThrow(/^bernoulli: p must be in \[0, 1\]/);
    expect(() => random.bernoulli(k, NaN)).toThrow(/^bernoulli: p/);
    expect(() => random.bernoulli(k, tensor([0.1, 0.2]), [3])).toThrow(/^bernoulli: /);
    expect(() => random.categorical(k, tensor(1))).toThrow(/^categorical: logits must have at least one dim/);
    expect(() => random.categorical(k, tensor([[1, 2]]), { axis: 2 })).toThrow(/^categorical: axis 2 is out of range/);
    expect(() => random.categorical(k, tensor([[1, 2], [3, 4]]), { shape: [5, 3] })).toThrow(/^categorical: shape \(5, 3\) must end with/);
    expect(() => random.randint(k, [2], 5, 3)).toThrow('randint: maxval (3) must be greater than minval (5)');
    expect(() => random.randint(k, [2], 0.5, 3)).toThrow(/^randint: minval must be an integer/);
    expect(() => random.randint(k, [2], 0, 2 ** 31 + 1)).toThrow(/^randint: maxval must be an integer in \[-2\^31, 2\^31\]/);
    expect(() => random.permutation(k, -1)).toThrow(/^permutation: x must be a non-negative int32/);
    expect(() => random.permutation(k, tensor(3))).toThrow(/^permutation: x must be an integer or a tensor with at least one dim/);
    expect(() => random.truncatedNormal(k, 1, 1)).toThrow(/^truncatedNormal: upper \(1\) must be greater than lower \(1\)/);
    expect(() => random.truncatedNormal(k, 2, -2)).toThrow(/^truncatedNormal: upper/);
    expect(() => random.truncatedNormal(k, NaN, 1)).toThrow(/^truncatedNormal: lower must be a number/);
  });
});

/**
 * Initialisers: gains and fans against PyTorch's formulas, sample variances within χ² confidence
 * intervals, orthogonality (against Gram–Schmidt on the same Gaussian draw), initParameter, and the
 * deep tanh network experiment: Xavier keeps activations alive, a small Gaussian makes them vanish.
 */
import {
  calculateGain, fanInOut, init, initParameter, kaimingNormal, kaimingUniform, Linear, orthogonal, truncNormal, xavierNormal, xavierUniform,
} from '@ml/nn';
import { random, scope } from '@ml/tensor';
import type { Key, Tensor } from '@ml/tensor';
import { describe, expect, it } from 'vitest';

const { constant, normal, ones, uniform, zeros } = init;
import { expectClose, values, varianceRatioInterval } from './layer-helpers.js';

const Z = 3.29; // two-sided 99.9%

const maxOf = (xs: number[]): number => xs.reduce((a, v) => Math.max(a, v), -Infinity);
const maxAbs = (xs: number[]): number => xs.reduce((a, v) => Math.max(a, Math.abs(v)), 0);

function meanVar(xs: number[]): [number, number] {
  const m = xs.reduce((a, v) => a + v, 0) / xs.length;
  return [m, xs.reduce((a, v) => a + (v - m) ** 2, 0) / (xs.length - 1)];
}

/**
 * Expects a sample of n draws with variance σ² to have mean 0 ± Z·σ/√n and s²/σ² inside the χ²
 * interval (exact for Gaussians; conservative for uniform draws, whose s² varies less).
 */
function expectMoments(t: Tensor, variance: number): void {
  const xs = values(t);
  const [m, s2] = meanVar(xs);
  expect(Math.abs(m)).toBeLessThan(Z * Math.sqrt(variance / xs.length));
  const [lo, hi] = varianceRatioInterval(xs.length);
  expect(s2 / variance).toBeGreaterThan(lo);
  expect(s2 / variance).toBeLessThan(hi);
}

/** Modified Gram–Schmidt on the columns of an (m, n) matrix, m ≥ n: the Q of the QR with R's diagonal > 0. */
function gramSchmidt(a: number[], m: number, n: number): number[] {
  const q = a.slice();
  for (let j = 0; j < n; j++) {
    for (let k = 0; k < j; k++) {
      let d = 0;
      for (let i = 0; i < m; i++) d += q[i * n + k] * q[i * n + j];
      for (let i = 0; i < m; i++) q[i * n + j] -= d * q[i * n + k];
    }
    let norm = 0;
    for (let i = 0; i < m; i++) norm += q[i * n + j] ** 2;
    for (let i = 0; i < m; i++) q[i * n + j] /= Math.sqrt(norm);
  }
  return q;
}

describe('calculateGain and fanInOut', () => {
  it('follow PyTorch', () => {
    expect(calculateGain('linear')).toBe(1);
    expect(calculateGain('conv2d')).toBe(1);
    expect(calculateGain('sigmoid')).toBe(1);
    expect(calculateGain('tanh')).toBeCloseTo(5 / 3, 15);
    expect(calculateGain('relu')).toBeCloseTo(Math.sqrt(2), 15);
    expect(calculateGain('leaky_relu')).toBeCloseTo(Math.sqrt(2 / (1 + 0.01 ** 2)), 15);
    expect(calculateGain('leaky_relu', 0.2)).toBeCloseTo(Math.sqrt(2 / 1.04), 15);
    expect(calculateGain('selu')).toBe(0.75);
    expect(() => calculateGain('swish' as 'relu')).toThrow("calculateGain: unsupported nonlinearity 'swish'");
    expect(fanInOut([256, 784])).toEqual({ fanIn: 784, fanOut: 256 });
    expect(fanInOut([16, 3, 5, 5])).toEqual({ fanIn: 75, fanOut: 400 });
    expect(fanInOut([8, 4, 3])).toEqual({ fanIn: 12, fanOut: 24 });
    expect(() => fanInOut([5])).toThrow('fanInOut: fan in and fan out need a shape with at least 2 dims, got (5,)');
  });
});

describe('variance-scaling initialisers', () => {
  const key = random.key(123);

  it('xavierUniform: U(−a, a), a = gain·√(6/(fanIn + fanOut))', () => {
    const w = xavierUniform(key, [300, 500], { gain: 2 });
    const a = 2 * Math.sqrt(6 / 800);
    const xs = values(w);
    expect(maxAbs(xs)).toBeLessThanOrEqual(a * (1 + 1e-6));
    expect(maxOf(xs)).toBeGreaterThan(0.99 * a);
    expectMoments(w, (a * a) / 3);
  });

  it('xavierNormal: σ² = gain²·2/(fanIn + fanOut), with conv fans', () => {
    expectMoments(xavierNormal(key, [64, 32, 3, 3]), 2 / (32 * 9 + 64 * 9));
    expectMoments(xavierNormal(key, [400, 200], { gain: 5 / 3, dtype: 'float64' }), (25 / 9) * (2 / 600));
  });

  it('kaimingNormal: σ² = gain²/fan, by mode and nonlinearity', () => {
    expectMoments(kaimingNormal(key, [300, 600]), 2 / 600); // default: leaky_relu with a = 0 → gain √2, fanIn
    expectMoments(kaimingNormal(key, [300, 600], { mode: 'fanOut', nonlinearity: 'relu' }), 2 / 300);
    expectMoments(kaimingNormal(key, [128, 16, 3, 3], { nonlinearity: 'tanh' }), (25 / 9) / 144);
    expectMoments(kaimingNormal(key, [400, 400], { a: 0.5 }), 2 / 1.25 / 400);
  });

  it('kaimingUniform: U(−b, b), b = gain·√(3/fan)', () => {
    const w = kaimingUniform(key, [200, 784], { nonlinearity: 'relu' });
    const b = Math.sqrt(2) * Math.sqrt(3 / 784);
    expect(maxAbs(values(w))).toBeLessThanOrEqual(b * (1 + 1e-6));
    expectMoments(w, (b * b) / 3);
    // PyTorch's Linear default is kaiming_uniform with a = √5: bound 1/√fanIn
    const lin = kaimingUniform(key, [50, 100], { a: Math.sqrt(5) });
    expect(maxAbs(values(lin))).toBeLessThanOrEqual(0.1 * (1 + 1e-6));
    expect(maxOf(values(lin))).toBeGreaterThan(0.098);
  });

  it('the same key gives the same draw; dtype and shape are honoured', () => {
    const a = xavierUniform(key, [3, 4], { dtype: 'float64' });
    expect(a.dtype).toBe('float64');
    expect(a.shape).toEqual([3, 4]);
    expect(values(a)).toEqual(values(xavierUniform(key, [3, 4], { dtype: 'float64' })));
    expect(values(a)).not.toEqual(values(xavierUniform(random.key(124), [3, 4], { dtype: 'float64' })));
  });
});

describe('orthogonal', () => {
  it('has orthonormal rows (wide) or columns (tall), scaled by gain', () => {
    for (const [shape, gain] of [[[50, 50], 1], [[60, 20], 2], [[10, 3, 2, 2], 1]] as const) {
      const w = orthogonal(random.key(7), shape, { gain, dtype: 'float64' });
      expect(w.shape).toEqual(shape);
      const rows = shape[0];
      const cols = w.size / rows;
      const m = w.reshape([rows, cols]);
      const gram = rows <= cols ? m.matmul(m.transpose()) : m.transpose().matmul(m);
      const k = Math.min(rows, cols);
      const eye = Array.from({ length: k * k }, (_, i) => (i % (k + 1) === 0 ? gain * gain : 0));
      expectClose(values(gram), eye, 1e-12);
    }
  });

  it('is Q of the Gaussian draw with the signs fixed so that diag(R) > 0 (Gram–Schmidt on the same draw)', () => {
    const key: Key = random.key(9);
    const tall = orthogonal(key, [7, 4], { dtype: 'float64' });
    expectClose(values(tall), gramSchmidt(values(random.normal(key, [7, 4], { dtype: 'float64' })), 7, 4), 1e-10);
    // a wide weight is the transpose of the tall one drawn for (cols, rows)
    const wide = orthogonal(key, [3, 5], { dtype: 'float64' });
    const q = gramSchmidt(values(random.normal(key, [5, 3], { dtype: 'float64' })), 5, 3);
    const qt = Array.from({ length: 15 }, (_, i) => q[(i % 5) * 3 + Math.floor(i / 5)]);
    expectClose(values(wide), qt, 1e-10);
    expect(() => orthogonal(key, [4])).toThrow('orthogonal: needs a shape with at least 2 dims, got (4,)');
  });
});

describe('simple initialisers', () => {
  it('normal, uniform, truncNormal, constant, zeros, ones', () => {
    const key = random.key(1);
    const n = normal(key, [100_000], { mean: 3, std: 0.5 });
    const [m, s2] = meanVar(values(n));
    expect(Math.abs(m - 3)).toBeLessThan(Z * 0.5 / Math.sqrt(1e5));
    const [lo, hi] = varianceRatioInterval(1e5);
    expect(s2 / 0.25).toBeGreaterThan(lo);
    expect(s2 / 0.25).toBeLessThan(hi);
    const u = values(uniform(key, [10_000], { a: -0.1, b: 0.3 }));
    expect(Math.min(...u)).toBeGreaterThanOrEqual(-0.1);
    expect(Math.max(...u)).toBeLessThan(0.3);
    const t = values(truncNormal(key, [10_000], { mean: 1, std: 2, a: 0, b: 3 }));
    expect(Math.min(...t)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...t)).toBeLessThanOrEqual(3);
    expect(values(constant(key, [2, 2], { value: 0.25 }))).toEqual([0.25, 0.25, 0.25, 0.25]);
    expect(values(zeros(key, [3]))).toEqual([0, 0, 0]);
    expect(values(ones(key, [2], { dtype: 'float64' }))).toEqual([1, 1]);
    expect(() => normal(key, [2], { std: -1 })).toThrow('normal: std must be a non-negative number, got -1');
    expect(() => uniform(key, [2], { a: 1, b: 0 })).toThrow('uniform: needs finite a < b, got a=1, b=0');
  });
});

describe('initParameter', () => {
  it('draws with the parameter shape and dtype and assigns in place', () => {
    const fc = new Linear(30, 20, { dtype: 'float64' });
    const w = fc.weight;
    initParameter(fc.weight, xavierUniform, { gain: calculateGain('tanh'), key: random.key(3) });
    expect(fc.weight).toBe(w);
    expect(fc.weight.dtype).toBe('float64');
    expect(values(fc.weight)).toEqual(values(xavierUniform(random.key(3), [20, 30], { gain: 5 / 3, dtype: 'float64' })));
    initParameter(fc.bias!, zeros);
    expect(values(fc.bias!).every((v) => v === 0)).toBe(true);
    initParameter(fc.bias!, constant, { value: 0.5 });
    expect(values(fc.bias!).every((v) => v === 0.5)).toBe(true);
    fc.dispose();
  });
});

describe('deep tanh network (10 layers of width 500, batch of 1000 N(0, 1) inputs)', () => {
  /** Standard deviation of the activations after each of the 10 tanh layers. */
  function activationStds(init: (key: Key, shape: number[]) => Tensor): number[] {
    return scope(() => {
      let h = random.normal(random.key(0), [1000, 500]); // (B, 500)
      const stds: number[] = [];
      for (let l = 0; l < 10; l++) {
        const w = init(random.fold(random.key(1), l), [500, 500]); // (out, in)
        h = h.matmul(w.transpose()).tanh(); // (B, 500)
        stds.push(h.std().dataSync()[0]);
      }
      return stds;
    });
  }

  // In the linear regime of tanh a layer multiplies the std by σ_w·√fanIn. Xavier makes that 1
  // (σ_w² = 2/(500 + 500)), so only tanh's saturation shrinks activations, and ever more slowly
  // as they get smaller (Glorot & Bengio 2010): the decay is sub-geometric. A small Gaussian
  // σ_w = 0.01 multiplies the std by 0.01·√500 ≈ 0.224 per layer: geometric decay to ~1e-7.
  it('Xavier keeps the std within [0.3, 3]× of layer 1, and the per-layer ratio approaches 1', () => {
    const stds = activationStds((k, s) => xavierUniform(k, s));
    const ratio = stds[9] / stds[0];
    expect(ratio).toBeGreaterThan(0.3);
    expect(ratio).toBeLessThan(3);
    expect(stds[9] / stds[8]).toBeGreaterThan(0.9); // sub-geometric: the decay slows down
  });

  it('Xavier with tanh gain 5/3 keeps the std nearly constant (within [0.7, 1.3]× of layer 1)', () => {
    const stds = activationStds((k, s) => xavierNormal(k, s, { gain: calculateGain('tanh') }));
    for (const s of stds) {
      expect(s / stds[0]).toBeGreaterThan(0.7);
      expect(s / stds[0]).toBeLessThan(1.3);
    }
  });

  it('N(0, 0.01²) collapses activations towards 0: each layer × ≈0.224, layer 10 std < 1e-6', () => {
    const stds = activationStds((k, s) => normal(k, s, { std: 0.01 }));
    expect(stds[9]).toBeLessThan(1e-6);
    const predicted = 0.01 * Math.sqrt(500);
    for (let l = 1; l < 10; l++) expect(Math.abs(stds[l] / stds[l - 1] / predicted - 1)).toBeLessThan(0.1);
  });
});

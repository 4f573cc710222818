/**
 * BatchNorm1d/2d and InstanceNorm2d: training forward against per-channel statistics computed in
 * loops, the running averages after two batches (momentum and cumulative), eval mode, state-dict
 * names, gradchecks, memory and errors.
 */
import { backward } from '@ml/autograd';
import { BatchNorm1d, BatchNorm2d, InstanceNorm2d } from '@ml/nn';
import { memory, scope } from '@ml/tensor';
import type { Tensor } from '@ml/tensor';
import { describe, expect, it } from 'vitest';
import { expectClose, expectModuleGradOk, rand64, values } from './layer-helpers.js';

/** Per-channel mean and biased/unbiased variance of x (N, C, S) flattened, over N and S. */
function channelStats(x: number[], n: number, c: number, s: number): { mean: number[]; biased: number[]; unbiased: number[] } {
  const mean: number[] = [];
  const biased: number[] = [];
  const unbiased: number[] = [];
  for (let ch = 0; ch < c; ch++) {
    const vals: number[] = [];
    for (let b = 0; b < n; b++) for (let i = 0; i < s; i++) vals.push(x[(b * c + ch) * s + i]);
    const m = vals.reduce((a, v) => a + v, 0) / vals.length;
    const ss = vals.reduce((a, v) => a + (v - m) ** 2, 0);
    mean.push(m);
    biased.push(ss / vals.length);
    unbiased.push(ss / (vals.length - 1));
  }
  return { mean, biased, unbiased };
}

/** y = γ_c·(x − μ_c)/√(σ²_c + eps) + β_c over x (N, C, S). */
function applyNorm(x: number[], c: number, s: number, mean: number[], variance: number[], g: number[], b: number[], eps: number): number[] {
  return x.map((v, i) => {
    const ch = Math.floor(i / s) % c;
    return ((v - mean[ch]) / Math.sqrt(variance[ch] + eps)) * g[ch] + b[ch];
  });
}

/** Gives γ, β non-trivial values so that the affine map is tested. */
function randomAffine(m: { weight: Tensor | null; bias: Tensor | null }, c: number): void {
  (m.weight as unknown as { assign(t: Tensor): void }).assign(scope(() => rand64(100, [c], 0.5, 2)));
  (m.bias as unknown as { assign(t: Tensor): void }).assign(scope(() => rand64(101, [c])));
}

describe('BatchNorm', () => {
  for (const [name, make, shape] of [
    ['BatchNorm1d on (N, C)', () => new BatchNorm1d(4, { dtype: 'float64' }), [6, 4]],
    ['BatchNorm1d on (N, C, L)', () => new BatchNorm1d(3, { dtype: 'float64' }), [4, 3, 5]],
    ['BatchNorm2d on (N, C, H, W)', () => new BatchNorm2d(3, { dtype: 'float64' }), [2, 3, 4, 5]],
  ] as const) {
    it(`${name}: training normalises with the batch mean and biased variance`, () => {
      const bn = make();
      const c = shape[1];
      randomAffine(bn, c);
      const n = shape[0];
      const s = shape.slice(2).reduce((a, b) => a * b, 1);
      const x = rand64(1, shape, -2, 3);
      const st = channelStats(values(x), n, c, s);
      const y = bn.forward(x);
      expectClose(values(y), applyNorm(values(x), c, s, st.mean, st.biased, values(bn.weight!), values(bn.bias!), 1e-5), 1e-12);
      bn.dispose();
    });
  }

  it('running statistics after 2 batches: (1 − m)·running + m·batch with the UNBIASED variance; numBatchesTracked = 2', () => {
    const bn = new BatchNorm2d(3, { momentum: 0.3, dtype: 'float64' });
    const x1 = rand64(2, [2, 3, 2, 3], -1, 4);
    const x2 = rand64(3, [4, 3, 2, 2], -5, 1);
    bn.forward(x1);
    bn.forward(x2);
    const s1 = channelStats(values(x1), 2, 3, 6);
    const s2 = channelStats(values(x2), 4, 3, 4);
    const m = 0.3;
    const mean = [0, 1, 2].map((c) => (1 - m) * ((1 - m) * 0 + m * s1.mean[c]) + m * s2.mean[c]);
    const variance = [0, 1, 2].map((c) => (1 - m) * ((1 - m) * 1 + m * s1.unbiased[c]) + m * s2.unbiased[c]);
    expectClose(values(bn.runningMean!), mean, 1e-14);
    expectClose(values(bn.runningVar!), variance, 1e-14);
    expect(bn.numBatchesTracked!.dtype).toBe('int32');
    expect(values(bn.numBatchesTracked!)).toEqual([2]);
    // eval mode: normalise with the running statistics, and leave them unchanged
    randomAffine(bn, 3);
    bn.eval();
    const x3 = rand64(4, [1, 3, 2, 2]);
    expectClose(values(bn.forward(x3)), applyNorm(values(x3), 3, 4, mean, variance, values(bn.weight!), values(bn.bias!), 1e-5), 1e-12);
    expectClose(values(bn.runningMean!), mean, 1e-14);
    expect(values(bn.numBatchesTracked!)).toEqual([2]);
    bn.dispose();
  });

  it('momentum null gives the cumulative average of the batch statistics', () => {
    const bn = new BatchNorm1d(2, { momentum: null, dtype: 'float64' });
    const batches = [rand64(5, [3, 2]), rand64(6, [5, 2], 2, 4), rand64(7, [4, 2], -3, 0)];
    for (const b of batches) bn.forward(b);
    const stats = batches.map((b) => channelStats(values(b), b.shape[0], 2, 1));
    expectClose(values(bn.runningMean!), [0, 1].map((c) => stats.reduce((a, s) => a + s.mean[c], 0) / 3), 1e-14);
    expectClose(values(bn.runningVar!), [0, 1].map((c) => stats.reduce((a, s) => a + s.unbiased[c], 0) / 3), 1e-14);
    expect(bn.extraRepr()).toBe('2, eps=1e-05, momentum=None, affine=true, track_running_stats=true');
    bn.dispose();
  });

  it('with trackRunningStats false: no buffers, batch statistics in eval too; affine false: no parameters', () => {
    const bn = new BatchNorm1d(3, { trackRunningStats: false, affine: false, dtype: 'float64' }).eval();
    expect(bn.runningMean).toBeNull();
    expect(bn.buffers()).toHaveLength(0);
    expect(bn.parameters()).toHaveLength(0);
    const x = rand64(8, [5, 3]);
    const st = channelStats(values(x), 5, 3, 1);
    expectClose(values(bn.forward(x)), applyNorm(values(x), 3, 1, st.mean, st.biased, [1, 1, 1], [0, 0, 0], 1e-5), 1e-12);
  });

  it('has PyTorch state-dict keys and repr', () => {
    const bn = new BatchNorm2d(64);
    const sd = scope(() => bn.stateDict({ naming: 'pytorch' }));
    expect(Object.keys(sd)).toEqual(['weight', 'bias', 'running_mean', 'running_var', 'num_batches_tracked']);
    expect(sd.num_batches_tracked.shape).toEqual([]);
    expect(values(bn.runningVar!).every((v) => v === 1)).toBe(true);
    expect(bn.toString()).toBe('BatchNorm2d(64, eps=1e-05, momentum=0.1, affine=true, track_running_stats=true)');
    bn.dispose();
  });

  it('gradients with respect to input, γ and β pass gradcheck in training and eval mode', () => {
    const bn = new BatchNorm2d(2, { dtype: 'float64' });
    randomAffine(bn, 2);
    expectModuleGradOk(bn, rand64(9, [3, 2, 2, 2]), ['weight', 'bias']);
    const bn1 = new BatchNorm1d(3, { dtype: 'float64' });
    randomAffine(bn1, 3);
    expectModuleGradOk(bn1, rand64(10, [4, 3, 2]), ['weight', 'bias']);
    bn1.eval();
    expectModuleGradOk(bn1, rand64(11, [2, 3]), ['weight', 'bias']);
    bn.dispose();
    bn1.dispose();
  });

  it('backward reaches γ and β but not the running statistics; memory is flat over training steps', () => {
    const bn = new BatchNorm1d(4);
    const x = rand64(12, [8, 4]).cast('float32');
    backward(scope(() => bn.forward(x).square().sum()));
    expect(bn.weight!.grad!.shape).toEqual([4]);
    expect(bn.runningMean!.requiresGrad).toBe(false);
    expect(bn.runningMean!.grad ?? null).toBeNull();
    bn.zeroGrad();
    const before = memory();
    for (let i = 0; i < 3; i++) bn.forward(x).dispose();
    const after = memory();
    expect(after.tensors).toBe(before.tensors);
    expect(after.buffers).toBe(before.buffers);
    bn.dispose();
  });

  it('rejects one value per channel in training, wrong shapes and bad arguments', () => {
    const bn = new BatchNorm1d(3);
    expect(() => bn.forward(rand64(0, [1, 3]))).toThrow('BatchNorm1d.forward: expected more than 1 value per channel when training, got input size (1, 3)');
    expect(() => new BatchNorm2d(3).forward(rand64(0, [1, 3, 1, 1]))).toThrow('BatchNorm2d.forward: expected more than 1 value per channel when training, got input size (1, 3, 1, 1)');
    expect(bn.eval().forward(rand64(0, [1, 3])).shape).toEqual([1, 3]); // fine in eval mode
    expect(() => bn.forward(rand64(0, [4, 2]))).toThrow('BatchNorm1d.forward: expected input (N, 3) or (N, 3, L), got (4, 2)');
    expect(() => new BatchNorm2d(3).forward(rand64(0, [3, 4, 4]))).toThrow('BatchNorm2d.forward: expected input (N, 3, H, W), got (3, 4, 4)');
    expect(() => new BatchNorm2d(0)).toThrow('BatchNorm2d: numFeatures must be a positive integer, got 0');
    expect(() => new BatchNorm1d(3, { momentum: 1.5 })).toThrow('BatchNorm1d: momentum must be in [0, 1] or null, got 1.5');
    expect(() => new BatchNorm1d(3, { eps: 0 })).toThrow('BatchNorm1d: eps must be a positive number, got 0');
    bn.dispose();
  });
});

describe('InstanceNorm2d', () => {
  /** Each (n, c) plane normalised by its own mean and biased variance. */
  function instanceRef(x: number[], n: number, c: number, s: number, g: number[], b: number[], eps: number): number[] {
    const out: number[] = [];
    for (let p = 0; p < n * c; p++) {
      const plane = x.slice(p * s, p * s + s);
      const m = plane.reduce((a, v) => a + v, 0) / s;
      const v = plane.reduce((a, u) => a + (u - m) ** 2, 0) / s;
      for (const u of plane) out.push(((u - m) / Math.sqrt(v + eps)) * g[p % c] + b[p % c]);
    }
    return out;
  }

  it('normalises each plane; no parameters or buffers by default; unbatched input', () => {
    const inorm = new InstanceNorm2d(3, { dtype: 'float64' });
    expect(inorm.parameters()).toHaveLength(0);
    expect(inorm.buffers()).toHaveLength(0);
    const x = rand64(13, [2, 3, 3, 4], -2, 2);
    expectClose(values(inorm.forward(x)), instanceRef(values(x), 2, 3, 12, [1, 1, 1], [0, 0, 0], 1e-5), 1e-12);
    expectClose(values(inorm.eval().forward(x.slice([1]))), instanceRef(values(x).slice(36), 1, 3, 12, [1, 1, 1], [0, 0, 0], 1e-5), 1e-12);
    expect(inorm.toString()).toBe('InstanceNorm2d(3, eps=1e-05, momentum=0.1, affine=false, track_running_stats=false)');
  });

  it('with affine and running statistics: γ, β per channel; running averages of the per-instance statistics', () => {
    const inorm = new InstanceNorm2d(2, { affine: true, trackRunningStats: true, momentum: 0.5, dtype: 'float64' });
    randomAffine(inorm, 2);
    const x = rand64(14, [3, 2, 2, 3], -1, 2);
    expectClose(values(inorm.forward(x)), instanceRef(values(x), 3, 2, 6, values(inorm.weight!), values(inorm.bias!), 1e-5), 1e-12);
    const xs = values(x);
    const mean = [0, 1].map((c) => {
      let s = 0;
      for (let n = 0; n < 3; n++) s += channelStats(xs.slice((n * 2 + c) * 6, (n * 2 + c + 1) * 6), 1, 1, 6).mean[0];
      return 0.5 * 0 + 0.5 * (s / 3);
    });
    const variance = [0, 1].map((c) => {
      let s = 0;
      for (let n = 0; n < 3; n++) s += channelStats(xs.slice((n * 2 + c) * 6, (n * 2 + c + 1) * 6), 1, 1, 6).unbiased[0];
      return 0.5 * 1 + 0.5 * (s / 3);
    });
    expectClose(values(inorm.runningMean!), mean, 1e-14);
    expectClose(values(inorm.runningVar!), variance, 1e-14);
    inorm.eval();
    const y = rand64(15, [1, 2, 2, 2]);
    expectClose(values(inorm.forward(y)), applyNorm(values(y), 2, 4, mean, variance, values(inorm.weight!), values(inorm.bias!), 1e-5), 1e-12);
  });

  it('gradients pass gradcheck; errors', () => {
    const inorm = new InstanceNorm2d(2, { affine: true, dtype: 'float64' });
    randomAffine(inorm, 2);
    expectModuleGradOk(inorm, rand64(16, [2, 2, 2, 3]), ['weight', 'bias']);
    expect(() => inorm.forward(rand64(0, [2, 2, 1, 1]))).toThrow('InstanceNorm2d.forward: expected more than 1 spatial element when training, got input size (2, 2, 1, 1)');
    expect(() => inorm.forward(rand64(0, [2, 3, 4, 4]))).toThrow('InstanceNorm2d.forward: expected input (N, 2, H, W) or (2, H, W), got (2, 3, 4, 4)');
  });
});

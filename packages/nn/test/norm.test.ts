/** LayerNorm and RMSNorm: forward against the textbook formulas in float64, gradients, options, errors. */
import { GroupNorm, groupNorm, LayerNorm, layerNorm, RMSNorm, rmsNorm } from '@ml/nn';
import { memory, random, scope, tensor } from '@ml/tensor';
import { describe, expect, it } from 'vitest';
import { expectClose, expectGradOk, expectModuleGradOk, rand64, values } from './layer-helpers.js';

/** Layer norm over the last `d` elements of each row: γ·(x − μ)/√(σ² + eps) + β, σ² biased. */
function layerNormRef(x: number[], d: number, g: number[] | null, b: number[] | null, eps: number): number[] {
  const out: number[] = [];
  for (let r = 0; r < x.length / d; r++) {
    const row = x.slice(r * d, r * d + d);
    const mu = row.reduce((a, v) => a + v, 0) / d;
    const v = row.reduce((a, u) => a + (u - mu) ** 2, 0) / d;
    row.forEach((u, i) => out.push(((u - mu) / Math.sqrt(v + eps)) * (g ? g[i] : 1) + (b ? b[i] : 0)));
  }
  return out;
}

function rmsNormRef(x: number[], d: number, g: number[], eps: number): number[] {
  const out: number[] = [];
  for (let r = 0; r < x.length / d; r++) {
    const row = x.slice(r * d, r * d + d);
    const ms = row.reduce((a, v) => a + v * v, 0) / d;
    row.forEach((u, i) => out.push((u / Math.sqrt(ms + eps)) * g[i]));
  }
  return out;
}

describe('LayerNorm', () => {
  it('normalises over the trailing dims, then applies γ x̂ + β', () => {
    const ln = new LayerNorm([3, 4], { dtype: 'float64' });
    // non-trivial γ, β so that the order of normalisation and affine map matters
    ln.weight!.assign(scope(() => rand64(1, [3, 4], 0.5, 2)));
    ln.bias!.assign(scope(() => rand64(2, [3, 4])));
    const x = rand64(3, [2, 5, 3, 4], -3, 5);
    expectClose(values(ln.forward(x)), layerNormRef(values(x), 12, values(ln.weight!), values(ln.bias!), 1e-5), 1e-12);
    const single = new LayerNorm(4, { eps: 1e-3, dtype: 'float64' });
    expectClose(values(single.forward(x)), layerNormRef(values(x), 4, null, null, 1e-3), 1e-12);
    ln.dispose();
    single.dispose();
  });

  it('functional layerNorm with and without affine parameters', () => {
    const x = rand64(4, [6, 5], -2, 2);
    const [g, b] = [rand64(5, [5]), rand64(6, [5])];
    expectClose(values(layerNorm(x, 5, g, b)), layerNormRef(values(x), 5, values(g), values(b), 1e-5), 1e-12);
    expectClose(values(layerNorm(x, [5])), layerNormRef(values(x), 5, null, null, 1e-5), 1e-12);
  });

  it('gradients with respect to input, γ and β pass gradcheck', () => {
    const ln = new LayerNorm([2, 3], { dtype: 'float64' });
    ln.weight!.assign(scope(() => rand64(7, [2, 3])));
    expectModuleGradOk(ln, rand64(8, [4, 2, 3]), ['weight', 'bias']);
    expectGradOk((x) => layerNorm(x, 4, null, null, 1e-2), [rand64(9, [3, 4])]);
    ln.dispose();
  });

  it('options: no affine parameters, no bias; PyTorch names and repr', () => {
    const plain = new LayerNorm(8, { elementwiseAffine: false });
    expect(plain.weight).toBeNull();
    expect(plain.parameters()).toHaveLength(0);
    const noBias = new LayerNorm(8, { bias: false });
    expect(noBias.bias).toBeNull();
    expect(noBias.weight!.shape).toEqual([8]);
    const ln = new LayerNorm(768);
    expect(values(ln.weight!).every((v) => v === 1)).toBe(true);
    expect(values(ln.bias!).every((v) => v === 0)).toBe(true);
    expect(Object.keys(scope(() => ln.stateDict({ naming: 'pytorch' })))).toEqual(['weight', 'bias']);
    expect(ln.toString()).toBe('LayerNorm((768,), eps=1e-05, elementwise_affine=true)');
    ln.dispose();
  });

  it('leaves no tensors behind', () => {
    const ln = new LayerNorm(16);
    const x = random.normal(random.key(0), [4, 16]);
    const before = memory().tensors;
    ln.forward(x).dispose();
    expect(memory().tensors).toBe(before);
  });

  it('rejects wrong shapes and bad arguments', () => {
    const ln = new LayerNorm([3, 4]);
    expect(() => ln.forward(random.normal(random.key(0), [2, 4, 3]))).toThrow('LayerNorm.forward: expected input (…, 3, 4), got (2, 4, 3)');
    expect(() => ln.forward(random.normal(random.key(0), [4]))).toThrow('LayerNorm.forward: expected input (…, 3, 4), got (4,)');
    expect(() => ln.forward(tensor([[1]], { dtype: 'int32' }))).toThrow('LayerNorm.forward: input must be float32 or float64, got int32');
    expect(() => new LayerNorm(0)).toThrow('LayerNorm: normalizedShape must be a positive integer, got 0');
    expect(() => new LayerNorm([])).toThrow('LayerNorm: normalizedShape must have at least one dim');
    expect(() => new LayerNorm(3, { eps: -1 })).toThrow('LayerNorm: eps must be a positive number, got -1');
    expect(() => layerNorm(rand64(0, [2, 3]), 3, rand64(0, [2]))).toThrow('layerNorm: weight must have shape (3,), got (2,)');
  });
});

describe('RMSNorm', () => {
  it('computes x / √(mean(x²) + eps) · weight over the last dim', () => {
    const norm = new RMSNorm(6, { dtype: 'float64' });
    expect(values(norm.weight).every((v) => v === 1)).toBe(true);
    norm.weight.assign(scope(() => rand64(1, [6], 0.5, 2)));
    const x = rand64(2, [3, 2, 6], -4, 4);
    expectClose(values(norm.forward(x)), rmsNormRef(values(x), 6, values(norm.weight), 1e-6), 1e-12);
    const y = rmsNorm(x, null, 0.1);
    expectClose(values(y), rmsNormRef(values(x), 6, new Array(6).fill(1), 0.1), 1e-12);
    norm.dispose();
  });

  it('gradients with respect to input and weight pass gradcheck', () => {
    const norm = new RMSNorm(5, { dtype: 'float64', eps: 1e-3 });
    norm.weight.assign(scope(() => rand64(3, [5])));
    expectModuleGradOk(norm, rand64(4, [3, 5]), ['weight']);
    norm.dispose();
  });

  it('has PyTorch names and repr; rejects wrong shapes', () => {
    const norm = new RMSNorm(4096);
    expect(Object.keys(scope(() => norm.stateDict({ naming: 'pytorch' })))).toEqual(['weight']);
    expect(norm.toString()).toBe('RMSNorm((4096,), eps=1e-06)');
    expect(() => norm.forward(random.normal(random.key(0), [2, 4095]))).toThrow('RMSNorm.forward: expected input (…, 4096), got (2, 4095)');
    expect(() => new RMSNorm(-2)).toThrow('RMSNorm: dim must be a positive integer, got -2');
    expect(() => rmsNorm(rand64(0, [2, 3]), rand64(0, [2]))).toThrow('rmsNorm: weight must have shape (3,), got (2,)');
    norm.dispose();
  });
});

describe('GroupNorm', () => {
  /** x (N, C, S): each sample's groups of C/G consecutive channels normalised together, then γ_c, β_c. */
  function groupNormRef(x: number[], [n, c, s]: number[], g: number, gamma: number[], beta: number[], eps: number): number[] {
    const out = new Array<number>(x.length);
    const size = (c / g) * s; // elements per (sample, group), contiguous
    for (let blk = 0; blk < n * g; blk++) {
      const part = x.slice(blk * size, blk * size + size);
      const mu = part.reduce((a, v) => a + v, 0) / size;
      const v = part.reduce((a, u) => a + (u - mu) ** 2, 0) / size;
      part.forEach((u, i) => {
        const idx = blk * size + i;
        const ch = Math.floor(idx / s) % c;
        out[idx] = ((u - mu) / Math.sqrt(v + eps)) * gamma[ch] + beta[ch];
      });
    }
    return out;
  }

  it('normalises groups of channels per sample, then applies γ, β per channel', () => {
    const gn = new GroupNorm(2, 6, { dtype: 'float64' });
    gn.weight!.assign(scope(() => rand64(1, [6], 0.5, 2)));
    gn.bias!.assign(scope(() => rand64(2, [6])));
    const x = rand64(3, [2, 6, 3, 2], -2, 3);
    expectClose(values(gn.forward(x)), groupNormRef(values(x), [2, 6, 6], 2, values(gn.weight!), values(gn.bias!), 1e-5), 1e-12);
    const x3 = rand64(4, [3, 4, 5]);
    expectClose(values(groupNorm(x3, 4)), groupNormRef(values(x3), [3, 4, 5], 4, [1, 1, 1, 1], [0, 0, 0, 0], 1e-5), 1e-12);
    // one group over (N, C) is layer norm over the channels
    const x2 = rand64(5, [5, 6]);
    expectClose(values(groupNorm(x2, 1)), values(layerNorm(x2, 6)), 1e-12);
    gn.dispose();
  });

  it('gradients pass gradcheck; same in train and eval', () => {
    const gn = new GroupNorm(3, 6, { dtype: 'float64' });
    gn.weight!.assign(scope(() => rand64(6, [6])));
    expectModuleGradOk(gn, rand64(7, [2, 6, 2]), ['weight', 'bias']);
    const x = rand64(8, [2, 6, 3]);
    expect(values(gn.eval().forward(x))).toEqual(values(gn.train().forward(x)));
    gn.dispose();
  });

  it('names, repr and errors', () => {
    const gn = new GroupNorm(8, 64);
    expect(Object.keys(scope(() => gn.stateDict({ naming: 'pytorch' })))).toEqual(['weight', 'bias']);
    expect(gn.toString()).toBe('GroupNorm(8, 64, eps=1e-05, affine=true)');
    expect(new GroupNorm(2, 4, { affine: false }).parameters()).toHaveLength(0);
    expect(() => new GroupNorm(3, 64)).toThrow('GroupNorm: numGroups=3 must divide numChannels=64');
    expect(() => new GroupNorm(0, 64)).toThrow('GroupNorm: numGroups must be a positive integer, got 0');
    expect(() => gn.forward(random.normal(random.key(0), [2, 32, 4, 4]))).toThrow('GroupNorm.forward: expected input (N, 64, *), got (2, 32, 4, 4)');
    expect(() => groupNorm(rand64(0, [2, 6]), 4)).toThrow('groupNorm: numGroups=4 must divide the 6 channels of input (2, 6)');
    gn.dispose();
  });
});

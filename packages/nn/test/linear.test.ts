/** Linear: forward against a float64 loop, gradients by gradcheck, PyTorch's initialisation, errors. */
import { backward } from '@ml/autograd';
import { Linear, linear, manualSeed } from '@ml/nn';
import { memory, random, scope, tensor } from '@ml/tensor';
import { describe, expect, it } from 'vitest';
import { expectClose, expectGradOk, expectModuleGradOk, rand64, values, varianceRatioInterval } from './layer-helpers.js';

/** y[r, o] = b[o] + Σ_i x[r, i]·W[o, i], with the leading dims of x flattened into r. */
function linearRef(x: number[], w: number[], b: number[] | null, inF: number, out: number): number[] {
  const rows = x.length / inF;
  const y: number[] = [];
  for (let r = 0; r < rows; r++) {
    for (let o = 0; o < out; o++) {
      let s = b ? b[o] : 0;
      for (let i = 0; i < inF; i++) s += x[r * inF + i] * w[o * inF + i];
      y.push(s);
    }
  }
  return y;
}

describe('Linear', () => {
  it('computes x·Wᵀ + b for 1-D, 2-D and 3-D inputs', () => {
    const fc = new Linear(5, 3, { dtype: 'float64', key: random.key(1) });
    const w = values(fc.weight);
    const b = values(fc.bias!);
    for (const shape of [[5], [4, 5], [2, 3, 5]]) {
      const x = rand64(2, shape);
      const y = fc.forward(x);
      expect(y.shape).toEqual([...shape.slice(0, -1), 3]);
      expectClose(values(y), linearRef(values(x), w, b, 5, 3), 1e-12);
      x.dispose();
      y.dispose();
    }
    fc.dispose();
  });

  it('without bias has bias null and computes x·Wᵀ', () => {
    const fc = new Linear(4, 2, { bias: false, dtype: 'float64' });
    expect(fc.bias).toBeNull();
    expect(fc.parameters()).toHaveLength(1);
    const x = rand64(3, [6, 4]);
    expectClose(values(fc.forward(x)), linearRef(values(x), values(fc.weight), null, 4, 2), 1e-12);
    fc.dispose();
  });

  it('functional linear matches the loop', () => {
    const [x, w, b] = [rand64(4, [3, 2, 4]), rand64(5, [6, 4]), rand64(6, [6])];
    expectClose(values(linear(x, w, b)), linearRef(values(x), values(w), values(b), 4, 6), 1e-12);
    expectClose(values(linear(x, w)), linearRef(values(x), values(w), null, 4, 6), 1e-12);
  });

  it('gradients with respect to input, weight and bias pass gradcheck', () => {
    const fc = new Linear(4, 3, { dtype: 'float64' });
    expectModuleGradOk(fc, rand64(7, [2, 3, 4]), ['weight', 'bias']);
    expectGradOk((x, w) => linear(x, w), [rand64(8, [5, 4]), rand64(9, [3, 4])]);
    fc.dispose();
  });

  it('backward fills weight.grad = Σ_r gᵣ xᵣᵀ and bias.grad = Σ_r gᵣ', () => {
    const fc = new Linear(2, 2, { dtype: 'float64' });
    const x = tensor([[1, 2], [3, 4], [5, 6]], { dtype: 'float64' });
    const loss = fc.forward(x).sum(); // g = 1 everywhere
    backward(loss);
    expect(values(fc.weight.grad!)).toEqual([9, 12, 9, 12]);
    expect(values(fc.bias!.grad!)).toEqual([3, 3]);
    fc.dispose();
  });

  it('initialises weight and bias from U(−1/√in, 1/√in), reproducibly with a key', () => {
    const inF = 400;
    const fc = new Linear(inF, 300, { key: random.key(11) });
    const bound = 1 / Math.sqrt(inF);
    const w = values(fc.weight);
    expect(w.reduce((a, v) => Math.max(a, Math.abs(v)), 0)).toBeLessThanOrEqual(bound);
    expect(w.reduce((a, v) => Math.max(a, v), -Infinity)).toBeGreaterThan(0.99 * bound); // the whole interval is used
    // sample variance against bound²/3: the χ² interval is conservative for the uniform law
    const mean = w.reduce((a, v) => a + v, 0) / w.length;
    const s2 = w.reduce((a, v) => a + (v - mean) ** 2, 0) / (w.length - 1);
    const [lo, hi] = varianceRatioInterval(w.length);
    expect(s2 / (bound * bound / 3)).toBeGreaterThan(lo);
    expect(s2 / (bound * bound / 3)).toBeLessThan(hi);
    expect(Math.abs(mean)).toBeLessThan(3.29 * Math.sqrt(bound * bound / 3 / w.length));
    expect(Math.max(...values(fc.bias!).map(Math.abs))).toBeLessThanOrEqual(bound);
    const again = new Linear(inF, 300, { key: random.key(11) });
    expect(values(again.weight)).toEqual(w);
    // the default stream: manualSeed makes construction reproducible, and successive layers differ
    manualSeed(5);
    const a = new Linear(3, 3);
    const a2 = new Linear(3, 3);
    manualSeed(5);
    const b = new Linear(3, 3);
    expect(values(b.weight)).toEqual(values(a.weight));
    expect(values(a2.weight)).not.toEqual(values(a.weight));
    for (const m of [fc, again, a, a2, b]) m.dispose();
  });

  it('has PyTorch state-dict keys and extraRepr', () => {
    const fc = new Linear(784, 256);
    expect(fc.toString()).toBe('Linear(in_features=784, out_features=256, bias=true)');
    expect(new Linear(2, 3, { bias: false }).extraRepr()).toBe('in_features=2, out_features=3, bias=false');
    const sd = scope(() => fc.stateDict({ naming: 'pytorch' }));
    expect(Object.keys(sd)).toEqual(['weight', 'bias']);
    expect(sd.weight.shape).toEqual([256, 784]);
    expect(fc.weight.dtype).toBe('float32');
    fc.dispose();
  });

  it('leaves no tensors behind', () => {
    const fc = new Linear(8, 4);
    const x = random.normal(random.key(0), [2, 3, 8]);
    const before = memory().tensors;
    for (let i = 0; i < 3; i++) fc.forward(x).dispose();
    expect(memory().tensors).toBe(before);
    fc.dispose();
  });

  it('rejects bad sizes and wrong input shapes with clear errors', () => {
    expect(() => new Linear(-1, 3)).toThrow('Linear: inFeatures must be a positive integer, got -1');
    expect(() => new Linear(3, 2.5)).toThrow('Linear: outFeatures must be a positive integer, got 2.5');
    expect(() => new Linear(3, 2, { dtype: 'int32' as 'float32' })).toThrow("Linear: dtype must be 'float32' or 'float64'");
    const fc = new Linear(784, 256);
    expect(() => fc.forward(random.normal(random.key(0), [32, 100]))).toThrow('Linear.forward: expected input (…, 784), got (32, 100)');
    expect(() => fc.forward(tensor(1))).toThrow('Linear.forward: expected input (…, 784), got ()');
    expect(() => linear(rand64(0, [2, 3]), rand64(0, [4, 5]))).toThrow('linear: expected input (…, 5) for weight (4, 5), got (2, 3)');
    expect(() => linear(rand64(0, [2, 5]), rand64(0, [4, 5]), rand64(0, [5]))).toThrow('linear: bias must be (4,) for weight (4, 5), got (5,)');
    fc.dispose();
  });
});

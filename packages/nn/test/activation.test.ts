/** Activation modules against their formulas in float64, gradchecks, Flatten/Unflatten, reprs and errors. */
import { Flatten, GELU, Identity, LeakyReLU, LogSoftmax, ReLU, Sequential, Sigmoid, SiLU, silu, Softmax, Softplus, Tanh, Unflatten } from '@ml/nn';
import type { Module } from '@ml/nn';
import { describe, expect, it } from 'vitest';
import { erf, expectClose, expectGradOk, rand64, values } from './layer-helpers.js';

const elementwise: [string, Module, (x: number) => number][] = [
  ['ReLU', new ReLU(), (x) => Math.max(x, 0)],
  ['LeakyReLU(0.2)', new LeakyReLU(0.2), (x) => (x > 0 ? x : 0.2 * x)],
  ['LeakyReLU()', new LeakyReLU(), (x) => (x > 0 ? x : 0.01 * x)],
  ['GELU', new GELU(), (x) => 0.5 * x * (1 + erf(x / Math.SQRT2, 100))],
  ['GELU(tanh)', new GELU('tanh'), (x) => 0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x ** 3)))],
  ['SiLU', new SiLU(), (x) => x / (1 + Math.exp(-x))],
  ['Tanh', new Tanh(), Math.tanh],
  ['Sigmoid', new Sigmoid(), (x) => 1 / (1 + Math.exp(-x))],
  ['Softplus', new Softplus(), (x) => Math.log1p(Math.exp(x))],
  ['Identity', new Identity(), (x) => x],
];

describe('elementwise activations', () => {
  for (const [name, m, f] of elementwise) {
    it(`${name} matches its formula and passes gradcheck`, () => {
      const x = rand64(1, [4, 5, 6], -3, 3);
      const y = m.forward(x);
      expect(y.shape).toEqual([4, 5, 6]);
      expectClose(values(y), values(x).map(f), 1e-12, 1e-12);
      expectGradOk((t) => m.forward(t), [rand64(2, [3, 4], -3, 3)]);
    });
  }

  it('functional silu; reprs as PyTorch', () => {
    const x = rand64(3, [5], -2, 2);
    expectClose(values(silu(x)), values(x).map((v) => v / (1 + Math.exp(-v))), 1e-14);
    expect(new ReLU().toString()).toBe('ReLU()');
    expect(new LeakyReLU(0.2).toString()).toBe('LeakyReLU(negative_slope=0.2)');
    expect(new GELU('tanh').toString()).toBe("GELU(approximate='tanh')");
    expect(new Softmax(1).toString()).toBe('Softmax(dim=1)');
    expect(() => new GELU('fast' as 'tanh')).toThrow("GELU: approximate must be 'none' or 'tanh', got fast");
    expect(() => new LeakyReLU(Number.NaN)).toThrow('LeakyReLU: negativeSlope must be a finite number, got NaN');
    expect(() => new ReLU().forward([1, 2] as never)).toThrow('ReLU.forward: input must be a Tensor, got object');
  });
});

describe('Softmax and LogSoftmax', () => {
  /** softmax along dim 1 of a (a, b, c) array. */
  function softmaxRef(x: number[], [a, b, c]: number[], log: boolean): number[] {
    const out = new Array<number>(x.length);
    for (let i = 0; i < a; i++) {
      for (let k = 0; k < c; k++) {
        const idx = (j: number) => (i * b + j) * c + k;
        let m = -Infinity;
        for (let j = 0; j < b; j++) m = Math.max(m, x[idx(j)]);
        let s = 0;
        for (let j = 0; j < b; j++) s += Math.exp(x[idx(j)] - m);
        for (let j = 0; j < b; j++) out[idx(j)] = log ? x[idx(j)] - m - Math.log(s) : Math.exp(x[idx(j)] - m) / s;
      }
    }
    return out;
  }

  it('normalise along dim (including negative dims) and pass gradcheck', () => {
    const x = rand64(4, [3, 5, 2], -5, 5);
    expectClose(values(new Softmax(1).forward(x)), softmaxRef(values(x), [3, 5, 2], false), 1e-14);
    expectClose(values(new Softmax(-2).forward(x)), softmaxRef(values(x), [3, 5, 2], false), 1e-14);
    expectClose(values(new LogSoftmax(1).forward(x)), softmaxRef(values(x), [3, 5, 2], true), 1e-13);
    expectClose(values(new Softmax().forward(x)), softmaxRef(values(x), [15, 2, 1], false), 1e-14);
    expectGradOk((t) => new Softmax(0).forward(t), [rand64(5, [4, 3])]);
    expectGradOk((t) => new LogSoftmax(1).forward(t), [rand64(6, [2, 4])]);
  });

  it('rejects a dim out of range', () => {
    expect(() => new Softmax(2).forward(rand64(0, [3, 4]))).toThrow('Softmax.forward: dim 2 is out of range for input (3, 4)');
    expect(() => new LogSoftmax(-3).forward(rand64(0, [3, 4]))).toThrow('LogSoftmax.forward: dim -3 is out of range for input (3, 4)');
    expect(() => new Softmax(0.5)).toThrow('Softmax: dim must be an integer, got 0.5');
  });
});

describe('Flatten and Unflatten', () => {
  it('merge and split dims, keeping element order', () => {
    const x = rand64(7, [2, 3, 4, 5]);
    const f = new Flatten().forward(x);
    expect(f.shape).toEqual([2, 60]);
    expect(values(f)).toEqual(values(x));
    expect(new Flatten(0, 1).forward(x).shape).toEqual([6, 4, 5]);
    expect(new Flatten(-2).forward(x).shape).toEqual([2, 3, 20]);
    const u = new Unflatten(1, [3, 4, 5]).forward(f);
    expect(u.shape).toEqual([2, 3, 4, 5]);
    expect(values(u)).toEqual(values(x));
    const seq = new Sequential(new Flatten(), new Unflatten(-1, [12, 5]));
    expect(seq.forward(x).shape).toEqual([2, 12, 5]);
    expectGradOk((t) => new Flatten().forward(t).mul(t.reshape([2, 6])), [rand64(8, [2, 2, 3])]);
  });

  it('repr and errors', () => {
    expect(new Flatten().toString()).toBe('Flatten(start_dim=1, end_dim=-1)');
    expect(new Unflatten(1, [16, 7, 7]).toString()).toBe('Unflatten(dim=1, unflattened_size=(16, 7, 7))');
    expect(() => new Flatten(3).forward(rand64(0, [2, 3]))).toThrow('Flatten.forward: startDim=3 is out of range for input (2, 3)');
    expect(() => new Flatten(2, 1).forward(rand64(0, [2, 3, 4]))).toThrow('Flatten.forward: startDim=2 comes after endDim=1 for input (2, 3, 4)');
    expect(() => new Unflatten(1, [4, 4]).forward(rand64(0, [2, 15]))).toThrow('Unflatten.forward: dim 1 of input (2, 15) has size 15, but sizes (4, 4) multiply to 16');
    expect(() => new Unflatten(1, [4, -1])).toThrow('Unflatten: sizes must be a positive integer, got -1');
  });
});

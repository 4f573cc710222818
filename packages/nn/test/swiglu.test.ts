/**
 * Feed-forwards: SwiGLU (Llama) and the GELU MLP (GPT-2) against plain-JS float64 formulas,
 * Llama's published hidden sizes, gradients, errors and memory.
 */
import { backward, gradcheck } from '@ml/autograd';
import { MLP, SwiGLU, llamaHiddenDim } from '@ml/nn';
import { scope } from '@ml/tensor';
import type { Tensor } from '@ml/tensor';
import { describe, expect, it } from 'vitest';
import { U, erf, expectFlatMemory } from './layer-helpers.js';
import { checkParamGrads } from './param-grads.js';

type Mat = number[][];
const project = (x: Mat, W: Mat, b?: number[]): Mat => x.map((row) => W.map((w, o) => w.reduce((a, wi, i) => a + wi * row[i], b ? b[o] : 0)));
const rows = (t: Tensor): Mat => { const d = t.shape[t.rank - 1]; const f = Array.from(t.dataSync()); return Array.from({ length: f.length / d }, (_, r) => f.slice(r * d, r * d + d)); };
const lin = (l: { weight: Tensor; bias: Tensor | null }) => [l.weight.arraySync() as Mat, l.bias?.arraySync() as number[] | undefined] as const;

function maxDiff(a: Mat, b: Mat): number {
  expect(a.length).toBe(b.length);
  return Math.max(...a.map((r, i) => Math.max(...r.map((v, j) => Math.abs(v - b[i][j])))));
}

const geluExact = (u: number) => 0.5 * u * (1 + erf(u / Math.SQRT2));
const geluTanh = (u: number) => 0.5 * u * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (u + 0.044715 * u ** 3)));
const silu = (u: number) => u / (1 + Math.exp(-u));

describe('llamaHiddenDim', () => {
  it("gives Llama's published intermediate sizes", () => {
    expect(llamaHiddenDim(4096)).toBe(11008); // Llama 2 7B
    expect(llamaHiddenDim(5120)).toBe(13824); // Llama 2 13B
    expect(llamaHiddenDim(4096, 1024, 1.3)).toBe(14336); // Llama 3 8B
    expect(llamaHiddenDim(64, 1)).toBe(170); // ⌊2·4·64/3⌋
    expect(llamaHiddenDim(64, 32)).toBe(192);
    expect(() => llamaHiddenDim(64, 0)).toThrow('llamaHiddenDim: multipleOf must be a positive integer, got 0');
  });
});

describe('SwiGLU', () => {
  it('is w2(silu(w1 x) ⊙ w3 x), with Llama names and no biases by default', () => {
    const ffn = new SwiGLU(6, { hiddenDim: 10, dtype: 'float64' });
    expect(scope(() => Object.entries(ffn.stateDict({ naming: 'pytorch' })).map(([n, t]) => [n, t.shape]))).toEqual([
      ['w1.weight', [10, 6]], ['w2.weight', [6, 10]], ['w3.weight', [10, 6]],
    ]);
    const x = U(1, [2, 3, 6]);
    const [W1] = lin(ffn.w1);
    const [W2] = lin(ffn.w2);
    const [W3] = lin(ffn.w3);
    const xs = rows(x);
    const g = project(xs, W1);
    const u = project(xs, W3);
    const ref = project(g.map((r, i) => r.map((v, j) => silu(v) * u[i][j])), W2);
    const y = ffn.forward(x);
    expect(y.shape).toEqual([2, 3, 6]);
    expect(maxDiff(rows(y), ref)).toBeLessThan(1e-14);
    ffn.dispose();
  });

  it('defaults to the Llama hidden size; biases on request', () => {
    const a = new SwiGLU(64);
    expect(a.hiddenDim).toBe(256);
    expect(a.w1.weight.shape).toEqual([256, 64]);
    const b = new SwiGLU(64, { multipleOf: 32, bias: true });
    expect(b.hiddenDim).toBe(192);
    expect(b.w2.bias!.shape).toEqual([64]);
    for (const m of [a, b]) m.dispose();
  });

  it('gradients: gradcheck in x and finite differences in the parameters', () => {
    const ffn = new SwiGLU(3, { hiddenDim: 4, dtype: 'float64', bias: true });
    const r = gradcheck((x) => ffn.forward(x), [U(2, [2, 3])]);
    expect(r.ok, r.message).toBe(true);
    const x = U(3, [2, 3]);
    checkParamGrads(ffn, () => scope(() => { const y = ffn.forward(x); return y.mul(y.add(0.5)).sum(); }));
    ffn.dispose();
  });
});

describe('MLP', () => {
  it('is fc2(gelu(fc1 x)) with a 4× hidden layer; exact and tanh GELU', () => {
    for (const approximate of ['none', 'tanh'] as const) {
      const mlp = new MLP(5, { dtype: 'float64', approximate });
      expect(mlp.hiddenDim).toBe(20);
      expect(scope(() => Object.keys(mlp.stateDict({ naming: 'pytorch' })))).toEqual(['fc1.weight', 'fc1.bias', 'fc2.weight', 'fc2.bias']);
      const x = U(4, [3, 5]);
      const [W1, b1] = lin(mlp.fc1);
      const [W2, b2] = lin(mlp.fc2);
      const act = approximate === 'none' ? geluExact : geluTanh;
      const ref = project(project(rows(x), W1, b1).map((r) => r.map(act)), W2, b2);
      expect(maxDiff(rows(mlp.forward(x)), ref)).toBeLessThan(1e-13);
      mlp.dispose();
    }
  });

  it('gradients: gradcheck in x and finite differences in the parameters', () => {
    const mlp = new MLP(3, { hiddenDim: 5, dtype: 'float64' });
    const r = gradcheck((x) => mlp.forward(x), [U(5, [2, 2, 3])]);
    expect(r.ok, r.message).toBe(true);
    const x = U(6, [2, 3]);
    checkParamGrads(mlp, () => scope(() => { const y = mlp.forward(x); return y.mul(y.add(0.5)).sum(); }));
    mlp.dispose();
  });
});

describe('errors and memory', () => {
  it('bad inputs and options throw; memory is flat over repeated calls', () => {
    const ffn = new SwiGLU(4, { hiddenDim: 8 });
    const mlp = new MLP(4);
    expect(() => ffn.forward(U(1, [2, 5], 'float32'))).toThrow('SwiGLU.forward: expected input (…, 4), got (2, 5)');
    expect(() => mlp.forward(U(1, [2, 3], 'float32'))).toThrow('MLP.forward: expected input (…, 4), got (2, 3)');
    expect(() => new MLP(4, { approximate: 'erf' as 'none' })).toThrow(`MLP: approximate must be 'none' or 'tanh', got 'erf'`);
    expect(() => new SwiGLU(4, { hiddenDim: 0 })).toThrow('SwiGLU: hiddenDim must be a positive integer, got 0');
    const x = U(2, [3, 4], 'float32');
    const step = () => scope(() => {
      backward(ffn.forward(x).add(mlp.forward(x)).sum());
      ffn.zeroGrad();
      mlp.zeroGrad();
    });
    expectFlatMemory(step);
    ffn.dispose();
    mlp.dispose();
  });
});

/** Embedding: lookup against plain indexing, gradients (scatter-add; none for paddingIdx), init, errors. */
import { backward, grad } from '@ml/autograd';
import { Embedding, embedding } from '@ml/nn';
import { random, scope, tensor } from '@ml/tensor';
import type { Tensor } from '@ml/tensor';
import { describe, expect, it } from 'vitest';
import { expectGradOk, rand64, values, varianceRatioInterval } from './layer-helpers.js';

const ids = (data: number[][] | number[]): Tensor => tensor(data, { dtype: 'int32' });

describe('Embedding', () => {
  it('looks up rows for indices of any shape: (…) → (…, dim)', () => {
    const emb = new Embedding(6, 3, { dtype: 'float64', key: random.key(3) });
    const w = values(emb.weight);
    const idx = [[1, 5, 0], [5, 5, 2]];
    const y = emb.forward(ids(idx));
    expect(y.shape).toEqual([2, 3, 3]);
    expect(values(y)).toEqual(idx.flat().flatMap((i) => w.slice(3 * i, 3 * i + 3)));
    expect(emb.forward(tensor(4, { dtype: 'int32' })).shape).toEqual([3]);
    expect(values(emb.forward(ids([4])))).toEqual(w.slice(12, 15));
    emb.dispose();
  });

  it('weight gradient adds the output gradient into each looked-up row (repeats accumulate)', () => {
    const w = rand64(1, [5, 2]);
    const idx = ids([3, 1, 3, 3]);
    const g = grad((t: Tensor) => embedding(idx, t).mul(tensor([[1, 10], [2, 20], [3, 30], [4, 40]], { dtype: 'float64' })).sum())(w);
    expect(values(g)).toEqual([0, 0, 2, 20, 0, 0, 8, 80, 0, 0]);
    expectGradOk((t) => embedding(ids([[0, 4], [2, 2]]), t), [rand64(2, [5, 3])]);
  });

  it('paddingIdx: the row starts at zero and gets no gradient', () => {
    const emb = new Embedding(4, 2, { paddingIdx: 1, dtype: 'float64' });
    expect(values(emb.weight).slice(2, 4)).toEqual([0, 0]);
    expect(values(emb.weight).slice(0, 2).every((v) => v !== 0)).toBe(true);
    backward(emb.forward(ids([[1, 2], [1, 0]])).sum());
    expect(values(emb.weight.grad!)).toEqual([1, 1, 0, 0, 1, 1, 0, 0]);
    // negative paddingIdx counts from the end; the row's value (even if changed) is still read
    const e2 = new Embedding(4, 2, { paddingIdx: -1 });
    expect(e2.paddingIdx).toBe(3);
    e2.weight.assign(scope(() => tensor([[0, 0], [0, 0], [0, 0], [7, 8]])));
    expect(values(e2.forward(ids([3])))).toEqual([7, 8]);
    expect(e2.extraRepr()).toBe('4, 2, padding_idx=3');
    emb.dispose();
    e2.dispose();
  });

  it('initialises from N(0, 1)', () => {
    const emb = new Embedding(1000, 64, { key: random.key(9) });
    const w = values(emb.weight);
    const mean = w.reduce((a, v) => a + v, 0) / w.length;
    const s2 = w.reduce((a, v) => a + (v - mean) ** 2, 0) / (w.length - 1);
    const [lo, hi] = varianceRatioInterval(w.length);
    expect(s2).toBeGreaterThan(lo);
    expect(s2).toBeLessThan(hi);
    expect(Math.abs(mean)).toBeLessThan(3.29 / Math.sqrt(w.length));
    expect(emb.toString()).toBe('Embedding(1000, 64)');
    expect(Object.keys(scope(() => emb.stateDict({ naming: 'pytorch' })))).toEqual(['weight']);
    emb.dispose();
  });

  it('rejects non-int32 and out-of-range indices and bad arguments', () => {
    const emb = new Embedding(10, 3);
    expect(() => emb.forward(tensor([1, 2]))).toThrow('Embedding.forward: indices must be int32, got float32 (shape (2,))');
    expect(() => emb.forward(ids([[1, 10]]))).toThrow('Embedding.forward: index 10 (at flat position 1 of indices (1, 2)) is out of range for 10 embeddings');
    expect(() => emb.forward(ids([-1]))).toThrow('out of range for 10 embeddings');
    expect(() => new Embedding(0, 3)).toThrow('Embedding: numEmbeddings must be a positive integer, got 0');
    expect(() => new Embedding(5, -3)).toThrow('Embedding: embeddingDim must be a positive integer, got -3');
    expect(() => new Embedding(5, 3, { paddingIdx: 5 })).toThrow('Embedding: paddingIdx must be an integer in [-5, 5), got 5');
    expect(() => embedding(ids([0]), rand64(0, [4]))).toThrow('embedding: weight must be (num, dim), got (4,)');
    emb.dispose();
  });
});

/**
 * Position encodings: rotary embeddings (the relative-position property, values against the
 * rotate-half formula written out in JS, the cached table, errors) and the absolute encodings
 * (sinusoids against Vaswani's formula, the learned table, startPos, state dicts).
 */
import { backward, gradcheck } from '@ml/autograd';
import { LearnedPositionalEmbedding, RotaryEmbedding, SinusoidalPositionalEncoding, applyRotary, rotaryEmbedding } from '@ml/nn';
import { memory, random, scope, tensor } from '@ml/tensor';
import { describe, expect, it } from 'vitest';
import { U } from './layer-helpers.js';

function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

/** Rotate-half RoPE of one vector at position m, straight from the formula. */
function ropeRef(x: number[], m: number, base = 10000): number[] {
  const D = x.length;
  const h = D / 2;
  const out = new Array<number>(D);
  for (let i = 0; i < h; i++) {
    const a = m * Math.pow(base, (-2 * i) / D);
    out[i] = x[i] * Math.cos(a) - x[i + h] * Math.sin(a);
    out[i + h] = x[i + h] * Math.cos(a) + x[i] * Math.sin(a);
  }
  return out;
}

const dot = (a: ArrayLike<number>, b: ArrayLike<number>) => Array.from(a).reduce((s, v, i) => s + v * b[i], 0);

describe('rotaryEmbedding', () => {
  it('matches the rotate-half formula for every (batch, head, position)', () => {
    const x = U(1, [2, 3, 5, 8]); // (B, H, T, D)
    const start = 7;
    const y = rotaryEmbedding(x, start, 500);
    const xs = x.dataSync();
    const ys = y.dataSync();
    for (let row = 0; row < 2 * 3 * 5; row++) {
      const t = row % 5;
      const ref = ropeRef(Array.from(xs.slice(row * 8, row * 8 + 8)), start + t, 500);
      expect(maxDiff(ys.slice(row * 8, row * 8 + 8), ref)).toBeLessThan(1e-14);
    }
  });

  it('⟨RoPE(q, m), RoPE(k, n)⟩ depends only on m − n, and rotations keep norms', () => {
    const q = U(2, [1, 16]);
    const k = U(3, [1, 16]);
    const score = (m: number, n: number) => dot(rotaryEmbedding(q, m).dataSync(), rotaryEmbedding(k, n).dataSync());
    const s = score(3, 1);
    for (const [m, n] of [[2, 0], [10, 8], [1002, 1000], [57, 55]]) expect(Math.abs(score(m, n) - s)).toBeLessThan(1e-10);
    expect(Math.abs(score(3, 2) - s)).toBeGreaterThan(1e-3); // a different offset gives a different score
    expect(Math.abs(score(1, 3) - s)).toBeGreaterThan(1e-3); // and the sign of the offset matters
    const r = rotaryEmbedding(q, 123).dataSync();
    expect(Math.abs(dot(r, r) - dot(q.dataSync(), q.dataSync()))).toBeLessThan(1e-12);
    // position 0 is the identity
    expect(maxDiff(rotaryEmbedding(q, 0).dataSync(), q.dataSync())).toBe(0);
  });

  it('accepts a start, a list or an int32 tensor of positions, all equal', () => {
    const x = U(4, [2, 4, 6]);
    const a = rotaryEmbedding(x, 3).dataSync();
    const b = rotaryEmbedding(x, [3, 4, 5, 6]).dataSync();
    const c = rotaryEmbedding(x, tensor([3, 4, 5, 6], { dtype: 'int32' })).dataSync();
    expect(maxDiff(a, b)).toBe(0);
    expect(maxDiff(a, c)).toBeLessThan(1e-13);
    const shuffled = rotaryEmbedding(x, [9, 0, 2, 2]).dataSync();
    const xs = x.dataSync();
    [9, 0, 2, 2].forEach((p, t) => {
      expect(maxDiff(shuffled.slice(t * 6, t * 6 + 6), ropeRef(Array.from(xs.slice(t * 6, t * 6 + 6)), p))).toBeLessThan(1e-14);
    });
  });

  it('is differentiable (gradcheck)', () => {
    const r = gradcheck((x) => rotaryEmbedding(x, 2).mul(x).sum(), [U(5, [2, 3, 4])]);
    expect(r.ok, r.message).toBe(true);
  });

  it('rejects odd head dims, wrong position counts and bad tables', () => {
    expect(() => rotaryEmbedding(U(6, [2, 5]), 0)).toThrow('rotaryEmbedding: the head dim must be even, got x (2, 5)');
    expect(() => rotaryEmbedding(U(6, [3, 4]), [0, 1])).toThrow('rotaryEmbedding: expected 3 positions for x with T = 3, got 2');
    expect(() => rotaryEmbedding(U(6, [3, 4]), -1)).toThrow(/startPos must be a non-negative integer/);
    expect(() => rotaryEmbedding(U(6, [3, 4]), tensor([0, 1, 2]))).toThrow('rotaryEmbedding: expected int32 positions (3,), got float32 (3,)');
    expect(() => applyRotary(U(6, [3, 4]), U(7, [3, 4]), U(7, [3, 2]))).toThrow('applyRotary: expected cos (3, 2) for x (3, 4), got (3, 4)');
  });
});

describe('RotaryEmbedding', () => {
  it('equals the functional form; its table is a non-persistent buffer that grows on demand', () => {
    const rope = new RotaryEmbedding(8, { maxLen: 4, dtype: 'float64', base: 100 });
    expect(rope.namedBuffers().map(([n, b]) => [n, b.shape, b.persistent])).toEqual([['cos', [4, 4], false], ['sin', [4, 4], false]]);
    expect(Object.keys(scope(() => rope.stateDict()))).toEqual([]);
    const x = U(8, [2, 3, 8]);
    expect(maxDiff(rope.forward(x, 1).dataSync(), rotaryEmbedding(x, 1, 100).dataSync())).toBeLessThan(1e-15);
    expect(maxDiff(rope.forward(x, 10).dataSync(), rotaryEmbedding(x, 10, 100).dataSync())).toBeLessThan(1e-13);
    expect(rope.maxLen).toBe(16);
    const idx = tensor([20, 0, 5], { dtype: 'int32' });
    expect(maxDiff(rope.forward(x, idx).dataSync(), rotaryEmbedding(x, [20, 0, 5], 100).dataSync())).toBeLessThan(1e-13);
    expect(rope.maxLen).toBe(32);
    expect(maxDiff(rope.forward(x, [1, 2, 3]).dataSync(), rotaryEmbedding(x, 1, 100).dataSync())).toBeLessThan(1e-15);
    expect(() => rope.forward(U(9, [3, 6]))).toThrow('RotaryEmbedding.forward: expected x (…, T, 8), got (3, 6)');
    expect(() => new RotaryEmbedding(7)).toThrow('RotaryEmbedding: headDim must be even, got 7');
    const before = memory();
    for (let i = 0; i < 3; i++) scope(() => void rope.forward(x, i));
    expect(memory()).toEqual(before);
    rope.dispose();
  });
});

describe('SinusoidalPositionalEncoding', () => {
  it('holds PE[pos, 2i] = sin(pos/10000^(2i/d)), PE[pos, 2i+1] = cos(pos/10000^(2i/d))', () => {
    for (const d of [6, 7]) {
      const pe = new SinusoidalPositionalEncoding(50, d, { dtype: 'float64' });
      const table = pe.encodings(50).dataSync();
      for (let pos = 0; pos < 50; pos++) {
        for (let i = 0; 2 * i < d; i++) {
          const w = pos / Math.pow(10000, (2 * i) / d);
          expect(Math.abs(table[pos * d + 2 * i] - Math.sin(w))).toBeLessThan(1e-15);
          if (2 * i + 1 < d) expect(Math.abs(table[pos * d + 2 * i + 1] - Math.cos(w))).toBeLessThan(1e-15);
        }
      }
      expect(pe.namedBuffers().map(([n, b]) => [n, b.persistent])).toEqual([['pe', false]]);
      expect(Object.keys(scope(() => pe.stateDict()))).toEqual([]);
      pe.dispose();
    }
  });

  it('forward adds the rows startPos … startPos+T−1 to (B, T, C) and (T, C)', () => {
    const pe = new SinusoidalPositionalEncoding(16, 4, { dtype: 'float64' });
    const x = U(10, [2, 3, 4]);
    const y = pe.forward(x, { startPos: 5 });
    const ys = y.dataSync();
    const xs = x.dataSync();
    for (let b = 0; b < 2; b++) {
      for (let t = 0; t < 3; t++) {
        for (let j = 0; j < 4; j++) {
          const w = (5 + t) / Math.pow(10000, (j - (j % 2)) / 4);
          const e = j % 2 ? Math.cos(w) : Math.sin(w);
          expect(Math.abs(ys[(b * 3 + t) * 4 + j] - xs[(b * 3 + t) * 4 + j] - e)).toBeLessThan(1e-15);
        }
      }
    }
    expect(pe.forward(x.slice([0])).shape).toEqual([3, 4]);
    expect(() => pe.forward(x, { startPos: 14 })).toThrow('SinusoidalPositionalEncoding.forward: positions 14 … 16 exceed maxLen 16 (input (2, 3, 4))');
    expect(() => pe.forward(U(1, [2, 3, 5]))).toThrow('SinusoidalPositionalEncoding.forward: expected input (B, T, 4) or (T, 4), got (2, 3, 5)');
    pe.dispose();
  });
});

describe('LearnedPositionalEmbedding', () => {
  it('adds learned rows, gets gradients only on the rows used, and saves as weight', () => {
    const wpe = new LearnedPositionalEmbedding(8, 3, { dtype: 'float64', std: 0.02, key: random.key(4) });
    expect(Object.keys(scope(() => wpe.stateDict({ naming: 'pytorch' })))).toEqual(['weight']);
    const w = wpe.weight.dataSync();
    // the initial table has std ≈ 0.02 (24 draws: a loose bound)
    const sd = Math.sqrt(Array.from(w).reduce((s, v) => s + v * v, 0) / w.length);
    expect(sd).toBeGreaterThan(0.01);
    expect(sd).toBeLessThan(0.04);
    const x = U(11, [2, 3, 3]);
    const y = wpe.forward(x, { startPos: 2 });
    const xs = x.dataSync();
    const ys = y.dataSync();
    for (let i = 0; i < ys.length; i++) {
      const t = Math.floor(i / 3) % 3;
      expect(ys[i]).toBe(xs[i] + w[(2 + t) * 3 + (i % 3)]);
    }
    backward(y.sum());
    const g = wpe.weight.grad!.arraySync();
    expect(g).toEqual([[0, 0, 0], [0, 0, 0], [2, 2, 2], [2, 2, 2], [2, 2, 2], [0, 0, 0], [0, 0, 0], [0, 0, 0]]);
    expect(wpe.encodings(2, 6).shape).toEqual([2, 3]);
    expect(() => wpe.forward(x, { startPos: 6 })).toThrow('LearnedPositionalEmbedding.forward: positions 6 … 8 exceed maxLen 8 (input (2, 3, 3))');
    wpe.dispose();
  });
});

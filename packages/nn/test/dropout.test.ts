/** Dropout: identity in eval, kept fraction and mean within confidence bounds, fresh masks, keys, errors. */
import { grad } from '@ml/autograd';
import { Dropout, dropout, Module } from '@ml/nn';
import { memory, ones, random, scope, tensor } from '@ml/tensor';
import type { Tensor } from '@ml/tensor';
import { describe, expect, it } from 'vitest';
import { values } from './layer-helpers.js';

const Z = 3.29; // two-sided 99.9% normal quantile

describe('Dropout', () => {
  it('is the identity in eval mode and for p = 0; p = 1 gives zeros', () => {
    const x = random.normal(random.key(0), [4, 5]);
    const d = new Dropout(0.3).eval();
    expect(values(d.forward(x))).toEqual(values(x));
    expect(values(new Dropout(0).forward(x))).toEqual(values(x));
    expect(values(new Dropout(1).forward(x)).every((v) => v === 0)).toBe(true);
    expect(values(dropout(x, 0.7, random.key(1), false))).toEqual(values(x));
  });

  it('keeps a fraction 1 − p (binomial 99.9% bound) and scales kept values by 1/(1 − p)', () => {
    for (const p of [0.1, 0.5, 0.8]) {
      const n = 200_000;
      const x = random.uniform(random.key(2), [n], { minval: 1, maxval: 2 });
      const y = new Dropout(p, { key: random.key(7) }).forward(x);
      const xs = values(x);
      const ys = values(y);
      let kept = 0;
      let badScale = 0;
      for (let i = 0; i < n; i++) {
        if (ys[i] === 0) continue;
        kept++;
        if (!(Math.abs(ys[i] - xs[i] / (1 - p)) < 1e-5 * ys[i])) badScale++;
      }
      expect(badScale).toBe(0);
      const q = 1 - p;
      expect(Math.abs(kept - n * q)).toBeLessThan(Z * Math.sqrt(n * q * p));
    }
  });

  it('has E[output] = input: the mean of dropout(c) over many elements is c within a CLT bound', () => {
    const n = 100_000;
    const p = 0.4;
    const y = dropout(ones([n]).mul(3), p, random.key(5));
    const mean = values(y).reduce((a, v) => a + v, 0) / n;
    // each element is 3/(1 − p) with probability 1 − p, else 0: variance 9·p/(1 − p)
    expect(Math.abs(mean - 3)).toBeLessThan(Z * Math.sqrt((9 * p) / (1 - p) / n));
  });

  it('draws a fresh mask on every call; the same key replays the same masks', () => {
    const x = ones([1000]);
    const a = new Dropout(0.5, { key: random.key(42) });
    const b = new Dropout(0.5, { key: random.key(42) });
    const a1 = values(a.forward(x));
    const a2 = values(a.forward(x));
    expect(a2).not.toEqual(a1);
    expect(values(b.forward(x))).toEqual(a1);
    expect(values(b.forward(x))).toEqual(a2);
    expect(values(dropout(x, 0.5, random.key(3)))).toEqual(values(dropout(x, 0.5, random.key(3))));
  });

  it('passes the gradient through the kept elements, scaled by 1/(1 − p)', () => {
    const x = random.normal(random.key(1), [500], { dtype: 'float64' });
    const y = dropout(x, 0.25, random.key(9));
    const g = grad((t: Tensor) => dropout(t, 0.25, random.key(9)).sum())(x);
    const ys = values(y);
    expect(values(g)).toEqual(ys.map((v) => (v !== 0 ? 1 / 0.75 : 0)));
  });

  it('follows train()/eval() of a parent module', () => {
    class Net extends Module {
      drop = new Dropout(0.9);
      forward(x: Tensor) {
        return this.drop.forward(x);
      }
    }
    const net = new Net();
    const x = ones([100]);
    expect(values(net.forward(x)).some((v) => v === 0)).toBe(true);
    net.eval();
    expect(values(net.forward(x))).toEqual(values(x));
    expect(net.drop.toString()).toBe('Dropout(p=0.9)');
  });

  it('leaves no tensors behind', () => {
    const d = new Dropout(0.5);
    const x = ones([64]);
    const before = memory().tensors;
    scope(() => {
      d.forward(x);
    });
    d.forward(x).dispose();
    expect(memory().tensors).toBe(before);
  });

  it('rejects p outside [0, 1] and non-float inputs', () => {
    expect(() => new Dropout(1.5)).toThrow('Dropout: p (the drop probability) must be in [0, 1], got 1.5');
    expect(() => new Dropout(-0.1)).toThrow('Dropout: p (the drop probability) must be in [0, 1], got -0.1');
    expect(() => dropout(ones([2]), Number.NaN, random.key(0))).toThrow('dropout: p (the drop probability) must be in [0, 1], got NaN');
    expect(() => new Dropout(0.5).forward(tensor([1, 2], { dtype: 'int32' }))).toThrow('Dropout.forward: input must be float32 or float64, got int32');
  });
});

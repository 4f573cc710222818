/**
 * Bad input to every loss throws an error naming the loss, the argument and the shapes; no loss
 * leaves tensors behind (results only, after a forward pass, a gradient, or an error).
 */
import { valueAndGrad } from '@ml/autograd';
import {
  bce, bceWithLogits, cosineEmbedding, crossEntropy, focal, huber, infoNCE, klDiv, l1, mse, multiclassHinge, nll, ntXent, smoothL1, tripletMargin,
} from '@ml/nn';
import { memory, scope, tensor } from '@ml/tensor';
import type { Tensor } from '@ml/tensor';
import { describe, expect, it } from 'vitest';
import { U, i32 } from './loss-helpers.js';

const x = U(1, [4, 3]);
const y = U(2, [4, 3]);
const probs = U(3, [4, 3], 0.05, 0.95);
const labels = U(4, [4, 3], 0, 1).gt(0.5).cast('float64');
const cls = i32([0, 2, 1, 2], [4]);
const seg = U(5, [2, 3, 4]); // (N, C, d1)
const segCls = i32([0, 2, -100, 1, 1, -100, 2, 0], [2, 4]);
const logq = x.logSoftmax(1);
const pm1 = i32([1, -1, -1, 1], [4]);

const w3 = tensor([1, 2, 3], { dtype: 'float64' });
const pos3 = tensor([2, 1, 1], { dtype: 'float64' });
const soft = probs.softmax(1);
const x0 = U(6, [3]);
const cls0 = i32([1], []);
const negatives = U(7, [4, 2, 3]);

/** One call of every loss with every option it has: [name, the input to differentiate, the loss of it]. */
const CALLS: [string, Tensor, (a: Tensor) => Tensor][] = [
  ['mse', x, (a) => mse(a, y)],
  ['l1', x, (a) => l1(a, y, { reduction: 'sum' })],
  ['huber', x, (a) => huber(a, y, { delta: 0.3, reduction: 'none' })],
  ['smoothL1', x, (a) => smoothL1(a, y, { beta: 0.5 })],
  ['crossEntropy (indices)', x, (a) => crossEntropy(a, cls, { weight: w3, labelSmoothing: 0.1 })],
  ['crossEntropy (N, C, d1)', seg, (a) => crossEntropy(a, segCls, { weight: w3, labelSmoothing: 0.1, reduction: 'none' })],
  ['crossEntropy (probabilities)', x, (a) => crossEntropy(a, soft, { labelSmoothing: 0.2 })],
  ['crossEntropy (unbatched)', x0, (a) => crossEntropy(a, cls0, { reduction: 'none' })],
  ['nll', logq, (a) => nll(a, cls, { weight: w3, ignoreIndex: 2 })],
  ['bce', probs, (a) => bce(a, labels, { weight: w3 })],
  ['bceWithLogits', x, (a) => bceWithLogits(a, labels, { weight: w3, posWeight: pos3 })],
  ['focal', x, (a) => focal(a, labels, { reduction: 'none' })],
  ['multiclassHinge', x, (a) => multiclassHinge(a, cls)],
  ['klDiv', logq, (a) => klDiv(a, probs, { reduction: 'batchmean' })],
  ['klDiv (logTarget)', logq, (a) => klDiv(a, y, { logTarget: true, reduction: 'none' })],
  ['tripletMargin', x, (a) => tripletMargin(a, y, probs, { swap: true })],
  ['cosineEmbedding', x, (a) => cosineEmbedding(a, y, pm1)],
  ['infoNCE (NT-Xent)', x, (a) => infoNCE(a, y)],
  ['infoNCE (negatives)', x, (a) => infoNCE(a, y, { negatives })],
  ['ntXent', x, (a) => ntXent(a, y, { reduction: 'none' })],
];

function delta(before: ReturnType<typeof memory>) {
  const now = memory();
  return { tensors: now.tensors - before.tensors, buffers: now.buffers - before.buffers, bytes: now.bytes - before.bytes };
}

describe('memory', () => {
  for (const [name, input, call] of CALLS) {
    it(`${name}: only the result stays alive; flat after a gradient inside scope`, () => {
      const before = memory();
      const out = call(input);
      expect(delta(before)).toEqual({ tensors: 1, buffers: 1, bytes: out.size * 8 });
      out.dispose();
      expect(delta(before)).toEqual({ tensors: 0, buffers: 0, bytes: 0 });
      scope(() => {
        const [value, g] = valueAndGrad((a: Tensor) => call(a).sum())(input);
        expect(Number.isFinite(value.dataSync()[0])).toBe(true);
        expect(g.shape).toEqual(input.shape);
      });
      expect(delta(before)).toEqual({ tensors: 0, buffers: 0, bytes: 0 });
    });
  }

  it('an error raised mid-computation (out-of-range class) frees what was made', () => {
    const bad4 = i32([0, 3, 1, 2], [4]);
    const bad8 = i32([0, 2, 3, 1, 1, -100, 2, 0], [2, 4]);
    const before = memory();
    expect(() => crossEntropy(seg, bad8, { weight: w3, labelSmoothing: 0.1 })).toThrow(/crossEntropy/);
    expect(() => nll(logq, bad4)).toThrow(/nll/);
    expect(() => multiclassHinge(x, bad4)).toThrow(/multiclassHinge/);
    expect(delta(before)).toEqual({ tensors: 0, buffers: 0, bytes: 0 });
  });
});

describe('errors', () => {
  it('input/target shape mismatch, for every elementwise loss', () => {
    const t = U(7, [3, 4]);
    const losses = [['mse', mse, 'input'], ['l1', l1, 'input'], ['huber', huber, 'input'], ['smoothL1', smoothL1, 'input'], ['klDiv', klDiv, 'input'],
      ['bceWithLogits', bceWithLogits, 'logits'], ['focal', focal, 'logits']] as const;
    for (const [name, f, inputName] of losses) {
      expect(() => f(x, t), name).toThrow(`${name}: target (3, 4) must have the shape of ${inputName} (4, 3)`);
    }
    expect(() => bce(probs, t)).toThrow('bce: target (3, 4) must have the shape of probs (4, 3)');
    expect(() => tripletMargin(x, y, U(8, [4, 2]))).toThrow('tripletMargin: negative (4, 2) must have the shape of anchor (4, 3)');
    expect(() => cosineEmbedding(x, t, pm1)).toThrow('cosineEmbedding: x2 (3, 4) must have the shape of x1 (4, 3)');
    expect(() => cosineEmbedding(x, y, i32([1, -1], [2]))).toThrow('cosineEmbedding: y (2,) must be (4,), one label per pair of x1 (4, 3)');
    expect(() => infoNCE(x, U(9, [5, 3]))).toThrow('infoNCE: z2 (5, 3) must have the shape of z1 (4, 3)');
    expect(() => infoNCE(x, y, { negatives: U(9, [5, 2]) })).toThrow('infoNCE: negatives (5, 2) must be (M, 3) or (4, M, 3) for z1 (4, 3)');
  });

  it('crossEntropy/nll: class indices must be int32; a float target must have the logits\' shape', () => {
    expect(() => crossEntropy(x, cls.cast('float32'))).toThrow("crossEntropy: target (4,): expected int32 class indices, got float32; use cast('int32')");
    expect(() => crossEntropy(x, cls.cast('uint8'))).toThrow("crossEntropy: target (4,): expected int32 class indices, got uint8; use cast('int32')");
    expect(() => nll(logq, cls.cast('float64'))).toThrow("nll: target (4,): expected int32 class indices, got float64; use cast('int32')");
    expect(() => crossEntropy(x, U(10, [4, 2]))).toThrow(
      "crossEntropy: target (4, 2) must be int32 class indices of shape (4,), or float class probabilities of the logits' shape (4, 3) (logits (4, 3))",
    );
    expect(() => crossEntropy(seg, i32([0, 1, 2, 0, 1, 2], [2, 3]))).toThrow('crossEntropy: target (2, 3) must be int32 class indices of shape (2, 4)');
    expect(() => crossEntropy(x, i32(new Array(12).fill(0), [4, 3]))).toThrow("crossEntropy: class probabilities (target of the logits' shape (4, 3)) must be float, got int32");
    expect(() => nll(logq, probs)).toThrow('nll: target (4, 3) must be int32 class indices of shape (4,) (logProbs (4, 3))');
    expect(() => crossEntropy(cls, cls)).toThrow('crossEntropy: logits must be float32 or float64, got int32 (4,)');
  });

  it('class indices out of range raise an error naming the position, not a wrong number', () => {
    expect(() => crossEntropy(x, i32([0, 3, 1, 2], [4]))).toThrow('crossEntropy: target[1] = 3 is not a class index in [0, 3) nor ignoreIndex -100 (logits (4, 3), target (4,))');
    // −1 would wrap to the last class in a plain gather
    expect(() => crossEntropy(x, i32([0, 1, -1, 2], [4]))).toThrow('crossEntropy: target[2] = -1 is not a class index in [0, 3)');
    expect(() => crossEntropy(seg, i32([0, 2, -100, 1, 1, -100, 7, 0], [2, 4]), { labelSmoothing: 0.1 })).toThrow('crossEntropy: target[1, 2] = 7 is not a class index');
    expect(() => nll(logq, i32([0, 1, 2, -100], [4]), { ignoreIndex: 2 })).toThrow('nll: target[3] = -100 is not a class index in [0, 3) nor ignoreIndex 2');
    expect(() => multiclassHinge(x, i32([0, -2, 1, 2], [4]))).toThrow('multiclassHinge: target[1] = -2 is not a class index in [0, 3) (scores (4, 3), target (4,))');
  });

  it('weight of the wrong length or shape', () => {
    expect(() => crossEntropy(x, cls, { weight: tensor([1, 2, 3, 4]) })).toThrow('crossEntropy: weight must be (C,) = (3,), one per class of logits (4, 3); got (4,)');
    expect(() => nll(logq, cls, { weight: tensor([[1, 2, 3]]) })).toThrow('nll: weight must be (C,) = (3,), one per class of logProbs (4, 3); got (1, 3)');
    expect(() => bce(probs, labels, { weight: tensor([1, 2]) })).toThrow('bce: weight (2,) does not broadcast to probs (4, 3)');
    expect(() => bceWithLogits(x, labels, { posWeight: tensor([1, 2, 3, 4]) })).toThrow('bceWithLogits: posWeight (4,) does not broadcast to logits (4, 3)');
    expect(() => bceWithLogits(x, labels, { weight: U(11, [2, 4, 3]) })).toThrow('bceWithLogits: weight (2, 4, 3) does not broadcast to logits (4, 3)');
  });

  it('labelSmoothing outside [0, 1]', () => {
    for (const v of [-0.1, 1.5, Number.NaN]) {
      expect(() => crossEntropy(x, cls, { labelSmoothing: v })).toThrow(`crossEntropy: labelSmoothing must be in [0, 1], got ${v}`);
    }
  });

  it('unknown reductions, for every loss', () => {
    const bad = { reduction: 'avg' } as unknown as { reduction: 'mean' };
    const calls: [string, () => unknown][] = [
      ['mse', () => mse(x, y, bad)], ['l1', () => l1(x, y, bad)], ['huber', () => huber(x, y, bad)], ['smoothL1', () => smoothL1(x, y, bad)],
      ['crossEntropy', () => crossEntropy(x, cls, bad)], ['nll', () => nll(logq, cls, bad)], ['bce', () => bce(probs, labels, bad)],
      ['bceWithLogits', () => bceWithLogits(x, labels, bad)], ['focal', () => focal(x, labels, bad)], ['multiclassHinge', () => multiclassHinge(x, cls, bad)],
      ['tripletMargin', () => tripletMargin(x, y, probs, bad)], ['cosineEmbedding', () => cosineEmbedding(x, y, pm1, bad)], ['infoNCE', () => infoNCE(x, y, bad)],
    ];
    for (const [name, call] of calls) expect(call, name).toThrow(`${name}: reduction must be 'mean', 'sum' or 'none', got 'avg'`);
    expect(() => klDiv(logq, probs, bad)).toThrow("klDiv: reduction must be 'mean', 'sum', 'none' or 'batchmean', got 'avg'");
    expect(() => crossEntropy(x, cls, { reduction: 'batchmean' } as unknown as { reduction: 'mean' })).toThrow("crossEntropy: reduction must be 'mean', 'sum' or 'none', got 'batchmean'");
  });

  it('values a loss cannot take', () => {
    expect(() => bce(x, labels)).toThrow(/^bce: probs \(4, 3\) must lie in \[0, 1\], found -?[0-9.]+; for logits use bceWithLogits$/);
    expect(() => cosineEmbedding(x, y, i32([1, 0, -1, 1], [4]))).toThrow('cosineEmbedding: y must hold 1 or −1, found 0 (y (4,))');
    expect(() => huber(x, y, { delta: 0 })).toThrow('huber: delta must be a positive number, got 0');
    expect(() => smoothL1(x, y, { beta: -1 })).toThrow('smoothL1: beta must be a number ≥ 0, got -1');
    expect(() => focal(x, labels, { gamma: -1 })).toThrow('focal: gamma must be a number ≥ 0, got -1');
    expect(() => focal(x, labels, { alpha: 2 })).toThrow('focal: alpha must be at most 1 (negative disables it), got 2');
    expect(() => infoNCE(x, y, { temperature: 0 })).toThrow('infoNCE: temperature must be a positive number, got 0');
    expect(() => tripletMargin(x, y, probs, { p: 0 })).toThrow('tripletMargin: p must be a positive number, got 0');
    expect(() => crossEntropy(x, cls, { ignoreIndex: 0.5 })).toThrow('crossEntropy: ignoreIndex must be an integer, got 0.5');
  });

  it('wrong ranks and non-tensors', () => {
    expect(() => multiclassHinge(seg, cls)).toThrow('multiclassHinge: scores must be (N, C), got (2, 3, 4)');
    expect(() => multiclassHinge(x, i32([0, 1], [2]))).toThrow('multiclassHinge: target (2,) must be (N,) = (4,) for scores (4, 3)');
    expect(() => multiclassHinge(x, cls.cast('float32'))).toThrow("multiclassHinge: target (4,): expected int32 class indices, got float32; use cast('int32')");
    expect(() => tripletMargin(seg, seg, seg)).toThrow('tripletMargin: anchor must be (N, D) or (D,), got (2, 3, 4)');
    expect(() => infoNCE(x.slice('0'), y.slice('0'))).toThrow('infoNCE: z1 must be (N, D), got (3,)');
    expect(() => mse(x, [1, 2] as unknown as Tensor)).toThrow('mse: target must be a Tensor, got object');
    const gone = U(12, [4, 3]);
    gone.dispose();
    expect(() => l1(gone, y)).toThrow('l1: input (4, 3) was disposed');
  });
});

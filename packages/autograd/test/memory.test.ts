/**
 * No leaks: after a transform (or a PyTorch-style backward with the step's tensors freed) live
 * tensors, buffers and bytes are the starting counts plus exactly the results kept; a long
 * training loop stays flat.
 */
import { describe, expect, it } from 'vitest';
import { adamStep, conv2d, maxPool2d, memory, oneHot, random, scope, tensor, Tensor, zerosLike } from '@ml/tensor';
import type { MemoryInfo } from '@ml/tensor';
import { backward, checkpoint, customVjp, grad, hessian, jacobian, jvp, noGrad, requiresGrad, valueAndGrad, vjp, zeroGrad } from '@ml/autograd';

const U = (seed: number, shape: readonly number[], lo = -1, hi = 1): Tensor =>
  random.uniform(random.key(seed), shape, { dtype: 'float64', minval: lo, maxval: hi });

/** What `ts` hold: tensor objects, distinct buffers and their bytes. */
function footprint(ts: readonly Tensor[]): { tensors: number; buffers: number; bytes: number } {
  const refs = new Set(ts.map((t) => t.ref));
  return { tensors: ts.length, buffers: refs.size, bytes: [...refs].reduce((a, r) => a + r.bytes, 0) };
}

function delta(before: MemoryInfo, after: MemoryInfo) {
  return { tensors: after.tensors - before.tensors, buffers: after.buffers - before.buffers, bytes: after.bytes - before.bytes };
}

/** Runs `fn`, checks that memory grew by exactly the tensors it returns, frees them, checks it is back. */
function expectOnlyResults(fn: () => Tensor[]): void {
  const before = memory();
  const kept = fn();
  expect(kept.length).toBeGreaterThan(0);
  expect(delta(before, memory())).toEqual(footprint(kept));
  for (const t of kept) t.dispose();
  expect(delta(before, memory())).toEqual({ tensors: 0, buffers: 0, bytes: 0 });
}

// ---- three models, as functions of a parameter tree

type Params = Record<string, Tensor>;
const x = U(1, [8, 6]);
const labels = tensor([0, 2, 1, 1, 0, 2, 2, 0], { dtype: 'int32' });
const targets = oneHot(labels, 3, 'float64');

const crossEntropy = (logits: Tensor) => logits.logSoftmax(-1).mul(targets).sum(-1).mean().neg();

const mlpParams = (): Params => ({ w1: U(2, [6, 16]), b1: U(3, [16]), w2: U(4, [16, 3]), b2: U(5, [3]) });
const mlp = (p: Params) => crossEntropy(x.matmul(p.w1).add(p.b1).relu().matmul(p.w2).add(p.b2));

const images = U(6, [8, 1, 6, 6]);
const convParams = (): Params => ({ k: U(7, [4, 1, 3, 3]), kb: U(8, [4]), w: U(9, [36, 3]) });
const convNet = (p: Params) => {
  const h = maxPool2d(conv2d(images, p.k, p.kb, { padding: 1 }).tanh(), 2); // (8, 4, 3, 3)
  return crossEntropy(h.reshape([8, 36]).matmul(p.w));
};

const softmaxParams = (): Params => ({ w: U(10, [6, 3]) });
const softmaxCE = (p: Params) => crossEntropy(x.matmul(p.w));

const MODELS: [string, (p: Params) => Tensor, () => Params][] = [
  ['MLP forward + loss', mlp, mlpParams],
  ['conv net', convNet, convParams],
  ['softmax cross-entropy', softmaxCE, softmaxParams],
];

describe('transforms free everything but their results', () => {
  for (const [name, f, init] of MODELS) {
    describe(name, () => {
      const p = init();

      it('grad', () => expectOnlyResults(() => Object.values(grad(f)(p))));

      it('valueAndGrad', () => expectOnlyResults(() => {
        const [value, g] = valueAndGrad(f)(p);
        return [value, ...Object.values(g)];
      }));

      it('vjp, then the pullback', () => {
        const seed = tensor(1, { dtype: 'float64' });
        expectOnlyResults(() => {
          const [y, pullback] = vjp(f, p);
          const [g] = pullback(seed);
          return [y, ...Object.values(g)];
        });
      });

      it('vjp whose pullback is disposed instead of called', () => expectOnlyResults(() => {
        const [y, pullback] = vjp(f, p);
        pullback.dispose();
        return [y];
      }));

      it('jvp', () => {
        const tangents = Object.fromEntries(Object.entries(p).map(([k, v], i) => [k, U(100 + i, v.shape)]));
        expectOnlyResults(() => jvp(f, [p], [tangents]));
      });

      it('PyTorch style: backward inside a scope leaves only .grad', () => {
        const params = Object.fromEntries(Object.entries(p).map(([k, v]) => [k, requiresGrad(v.clone())]));
        const before = memory();
        scope(() => backward(f(params)));
        const grads = Object.values(params).map((t) => t.grad!);
        expect(delta(before, memory())).toEqual(footprint(grads));
        // the same gradients as grad()
        const g = grad(f)(p);
        for (const k of Object.keys(p)) expect(Array.from(params[k].grad!.dataSync())).toEqual(Array.from(g[k].dataSync()));
        for (const t of Object.values(g)) t.dispose();
        zeroGrad(Object.values(params));
        expect(delta(before, memory())).toEqual({ tensors: 0, buffers: 0, bytes: 0 });
      });
    });
  }

  it('hessian and jacobian', () => {
    const A = U(20, [4, 4]);
    const v = U(21, [4]);
    const row = A.slice([0]);
    expectOnlyResults(() => [hessian((x: Tensor) => x.matmul(A).tanh().sum())(v)]);
    expectOnlyResults(() => [jacobian((x: Tensor) => x.matmul(A).sin())(v)]);
    expectOnlyResults(() => jvp(grad((x: Tensor) => x.matmul(A).tanh().sum()), [v], [row]));
  });

  it('customVjp and checkpoint inside grad', () => {
    const sq = customVjp((x: Tensor) => {
      const y = x.square();
      return [y, { x, twice: x.mul(2) }] as const;
    }, (r, g) => [g.mul(r.twice)]);
    const w = U(22, [5]);
    expectOnlyResults(() => [grad((x: Tensor) => sq(x.sin()).sum())(w)]);
    expectOnlyResults(() => [grad((x: Tensor) => checkpoint((h: Tensor) => h.exp().mul(h))(x.cos()).sum())(w)]);
  });
});

describe('a rule that throws frees what the pass held', () => {
  // adamStep's rule refuses to differentiate: the pass stops there and must not leak
  const refused = (x: Tensor) => {
    const z = zerosLike(x);
    const r = adamStep(x, x, z, z, { lr: 0.1, beta1: 0.9, beta2: 0.999, eps: 1e-8, step: 1 });
    return r.param.square().sum();
  };

  it('grad', () => {
    const x = U(71, [5]);
    const before = memory();
    expect(() => grad(refused)(x)).toThrow(/adamStep: the fused Adam update is not differentiable/);
    expect(memory()).toEqual(before);
    x.dispose();
  });

  it('backward', () => {
    const x = requiresGrad(U(72, [5]));
    const before = memory();
    expect(() => scope(() => backward(refused(x)))).toThrow(/not differentiable/);
    expect(memory()).toEqual(before);
    x.dispose();
  });
});

describe('PyTorch-style graphs are freed', () => {
  it('when every tensor of the step is disposed by hand, after backward', () => {
    const w = requiresGrad(U(30, [6, 3]));
    const before = memory();
    const h = x.matmul(w);
    const e = h.tanh();
    const loss = e.sum();
    backward(loss);
    for (const t of [h, e, loss]) t.dispose();
    expect(delta(before, memory())).toEqual(footprint([w.grad!]));
    zeroGrad([w]);
  });

  it('when the step is never backpropagated', () => {
    const w = requiresGrad(U(31, [6, 3]));
    const before = memory();
    scope(() => void mlp({ w1: w.matmul(U(32, [3, 16])), b1: U(33, [16]), w2: U(34, [16, 3]), b2: U(35, [3]) }));
    expect(delta(before, memory())).toEqual({ tensors: 0, buffers: 0, bytes: 0 });
  });

  it('with retainGraph, once the graph is released by disposing it', () => {
    const w = requiresGrad(U(36, [6, 3]));
    const before = memory();
    const loss = scope(() => x.matmul(w).exp().sum());
    backward(loss, undefined, { retainGraph: true });
    backward(loss, undefined, { retainGraph: true });
    loss.dispose();
    expect(delta(before, memory())).toEqual(footprint([w.grad!]));
    zeroGrad([w]);
  });
});

describe('training loops stay flat', () => {
  it('200 steps of PyTorch-style backward and manual SGD', () => {
    let params = Object.fromEntries(Object.entries(mlpParams()).map(([k, v]) => [k, requiresGrad(v)]));
    const lr = 0.1;
    const losses: number[] = [];
    let afterFirst: MemoryInfo | undefined;
    for (let step = 0; step < 200; step++) {
      losses.push(scope(() => {
        const loss = mlp(params);
        backward(loss);
        return loss.dataSync()[0];
      }));
      // SGD: new leaves from the old ones, computed without recording; the old ones are freed
      params = noGrad(() =>
        scope(() =>
          Object.fromEntries(Object.entries(params).map(([k, w]) => {
            const next = requiresGrad(w.sub(w.grad!.mul(lr)));
            w.grad!.dispose();
            w.dispose();
            return [k, next];
          })),
        ),
      );
      if (step === 0) afterFirst = memory();
    }
    expect(delta(afterFirst!, memory())).toEqual({ tensors: 0, buffers: 0, bytes: 0 });
    expect(losses[199]).toBeLessThan(losses[0] * 0.5);
  });

  it('200 steps of valueAndGrad and functional SGD', () => {
    let p = softmaxParams();
    let afterFirst: MemoryInfo | undefined;
    const losses: number[] = [];
    for (let step = 0; step < 200; step++) {
      const [loss, g] = valueAndGrad(softmaxCE)(p);
      losses.push(loss.dataSync()[0]);
      const next = scope(() => ({ w: p.w.sub(g.w.mul(0.5)) }));
      for (const t of [loss, g.w, p.w]) t.dispose();
      p = next;
      if (step === 0) afterFirst = memory();
    }
    expect(delta(afterFirst!, memory())).toEqual({ tensors: 0, buffers: 0, bytes: 0 });
    expect(losses[199]).toBeLessThan(losses[0]);
  });
});

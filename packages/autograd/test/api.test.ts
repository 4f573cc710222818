/**
 * The API beyond grad/vjp/jvp: customVjp, stopGradient, noGrad, checkpoint, PyTorch-style
 * training (requiresGrad, backward, .grad, zeroGrad, retainGraph), anomaly mode and gradcheck.
 */
import { describe, expect, it } from 'vitest';
import { memory, random, scope, tensor, Tensor, where } from '@ml/tensor';
import type { NestedArray } from '@ml/tensor';
import {
  backward,
  checkpoint,
  customVjp,
  detectAnomaly,
  grad,
  gradcheck,
  jvp,
  noGrad,
  requiresGrad,
  stopGradient,
  valueAndGrad,
  vjp,
  zeroGrad,
} from '@ml/autograd';

const U = (seed: number, shape: readonly number[], lo = -1, hi = 1): Tensor =>
  random.uniform(random.key(seed), shape, { dtype: 'float64', minval: lo, maxval: hi });
const f64 = (data: NestedArray): Tensor => tensor(data, { dtype: 'float64' });
const values = (t: Tensor): number[] => Array.from(t.dataSync());

describe('customVjp', () => {
  // clip the gradient of x ↦ x² to [−1, 1]
  const clippedSquare = customVjp(
    (x: Tensor) => [x.square(), x] as const,
    (x, g) => [g.mul(x).mul(2).clip(-1, 1)],
  );

  it('uses the hand-written gradient', () => {
    expect(values(clippedSquare(f64([0.1, 3, -2])))).toEqual([0.010000000000000002, 9, 4]);
    const g = grad((x: Tensor) => clippedSquare(x).sum())(f64([0.1, 3, -2]));
    expect(values(g)).toEqual([0.2, 1, -1]);
  });

  it('does not record its forward: a straight-through round gets gradient 1, not 0', () => {
    const ste = customVjp((x: Tensor) => [x.round(), null] as const, (_r, g) => [g]);
    expect(values(grad((x: Tensor) => ste(x).mul(x).sum())(f64([0.4, 1.6])))).toEqual([0.4 + 0, 1.6 + 2]);
    // and its forward ops leave nothing behind in the graph: only the custom node is used
    const [, pullback] = vjp((x: Tensor) => ste(x.exp()), f64([0]));
    expect(values(pullback(f64([3]))[0])).toEqual([3]);
  });

  it('takes several inputs and a tree of residuals; null means no gradient', () => {
    const scaled = customVjp(
      (a: Tensor, b: Tensor) => [a.mul(b), { a, b, twice: b.mul(2) }] as const,
      (r, g) => [g.mul(r.twice), null],
    );
    const [ga, gb] = grad((a: Tensor, b: Tensor) => scaled(a, b).sum(), [0, 1])(f64([1, 2]), f64([3, 4]));
    expect(values(ga)).toEqual([6, 8]);
    expect(values(gb)).toEqual([0, 0]);
  });

  it('works with PyTorch-style backward, even after the scope that built the graph closed', () => {
    const expo = customVjp((x: Tensor) => {
      const y = x.exp();
      return [y, y] as const;
    }, (y, g) => [g.mul(y)]);
    const w = requiresGrad(f64([0, 1]));
    const before = memory();
    const loss = scope(() => expo(w.mul(2)).sum());
    backward(loss);
    expect(values(w.grad!)).toEqual([2, 2 * Math.exp(2)]);
    loss.dispose();
    w.grad!.dispose();
    w.grad = null;
    expect(memory().tensors).toBe(before.tensors);
    expect(memory().buffers).toBe(before.buffers);
  });

  it('refuses forward mode with an error naming jvp', () => {
    expect(() => jvp((x: Tensor) => clippedSquare(x), [f64([1])], [f64([1])])).toThrow(/customVjp.*forward mode \(jvp\)/);
  });

  it('records nothing under noGrad', () => {
    const w = requiresGrad(f64([1, 2]));
    const y = noGrad(() => clippedSquare(w));
    expect(() => backward(y.sum())).toThrow(/does not depend on any tensor that requires grad/);
  });
});

describe('stopGradient', () => {
  it('blocks the gradient in reverse mode', () => {
    expect(values(grad((x: Tensor) => x.mul(stopGradient(x)).sum())(f64([3, -1])))).toEqual([3, -1]);
    expect(values(grad((x: Tensor) => stopGradient(x).exp().sum())(f64([3, -1])))).toEqual([0, 0]);
  });

  it('gives a zero tangent in forward mode', () => {
    const [y, t] = jvp((x: Tensor) => x.mul(stopGradient(x)), [f64([3, -1])], [f64([1, 1])]);
    expect(values(y)).toEqual([9, 1]);
    expect(values(t)).toEqual([3, -1]);
  });

  it('in PyTorch style: the constant gets no .grad', () => {
    const w = requiresGrad(f64([2]));
    backward(w.mul(stopGradient(w)).sum());
    expect(values(w.grad!)).toEqual([2]);
  });
});

describe('noGrad', () => {
  it('computes values without recording (sync)', () => {
    const g = grad((x: Tensor) => {
      const c = noGrad(() => x.square()); // a constant
      return x.mul(c).sum();
    })(f64([2, 3]));
    expect(values(g)).toEqual([4, 9]);
    const w = requiresGrad(f64([1]));
    const y = noGrad(() => w.mul(3));
    expect(values(y)).toEqual([3]);
    expect(() => backward(y.sum())).toThrow(/backward: the output \(shape \(\)\) does not depend/);
  });

  it('covers an async function until its promise settles, then recording resumes', async () => {
    const w = requiresGrad(f64([1, 2]));
    const y = await noGrad(async () => {
      await new Promise((r) => setTimeout(r, 1));
      return w.mul(3);
    });
    expect(() => backward(y.sum())).toThrow(/does not depend/);
    backward(w.mul(3).sum());
    expect(values(w.grad!)).toEqual([3, 3]);
  });

  it('restores recording when the function throws', () => {
    expect(() => noGrad(() => {
      throw new Error('boom');
    })).toThrow('boom');
    expect(values(grad((x: Tensor) => x.square().sum())(f64([2])))).toEqual([4]);
  });
});

describe('checkpoint', () => {
  // a small MLP: the middle block is checkpointed; weights are passed as arguments
  const W1 = U(1, [4, 16], -0.5, 0.5);
  const W2 = U(2, [16, 16], -0.5, 0.5);
  const W3 = U(3, [16, 2], -0.5, 0.5);
  const block = (h: Tensor, w: Tensor) => h.matmul(w).tanh().matmul(w).sigmoid().mul(h);
  const blockCk = checkpoint(block);
  const model = (ck: boolean) => (x: Tensor, w1: Tensor, w2: Tensor, w3: Tensor) => {
    const h = x.matmul(w1).tanh();
    const b = ck ? blockCk(h, w2) : block(h, w2);
    return b.matmul(w3).square().mean();
  };
  const x = U(4, [8, 4]);

  it('gives bit-for-bit the gradients of the plain function', () => {
    const plain = grad(model(false), [0, 1, 2, 3])(x, W1, W2, W3);
    const ck = grad(model(true), [0, 1, 2, 3])(x, W1, W2, W3);
    ck.forEach((g, i) => expect(Array.from(g.dataSync())).toEqual(Array.from(plain[i].dataSync())));
  });

  it('keeps fewer tensors and buffers alive after the forward pass', () => {
    const measure = (ck: boolean) => {
      const before = memory();
      const [y, pullback] = vjp(model(ck), x, W1, W2, W3);
      const after = memory();
      const grads = pullback(tensor(1, { dtype: 'float64' }));
      for (const t of [y, ...grads]) t.dispose();
      return { tensors: after.tensors - before.tensors, buffers: after.buffers - before.buffers, bytes: after.bytes - before.bytes };
    };
    const plain = measure(false);
    const ck = measure(true);
    expect(ck.tensors).toBeLessThan(plain.tensors);
    expect(ck.buffers).toBeLessThan(plain.buffers);
    expect(ck.bytes).toBeLessThan(plain.bytes);
  });

  it('gives the same .grad in PyTorch style', () => {
    const run = (ck: boolean) => {
      const ws = [W1, W2, W3].map((w) => requiresGrad(w.clone()));
      scope(() => backward(model(ck)(x, ws[0], ws[1], ws[2])));
      return ws.map((w) => values(w.grad!));
    };
    expect(run(true)).toEqual(run(false));
  });

  it('refuses a function that reads a differentiated tensor from a closure', () => {
    const leaky = (x: Tensor, w: Tensor) => checkpoint((h: Tensor) => h.matmul(w).tanh())(x).sum();
    expect(() => grad(leaky, [0, 1])(U(5, [2, 4]), W1)).toThrow(/checkpoint: f reads a tensor of shape \(4, 16\).*pass it .* as an argument/);
  });

  it('is a no-op when nothing is differentiated', () => {
    expect(values(checkpoint((h: Tensor) => h.mul(2))(f64([1, 2])))).toEqual([2, 4]);
  });
});

describe('PyTorch-style training', () => {
  it('backward fills .grad of every tensor that requires it', () => {
    const w = requiresGrad(f64([[1, 2], [3, 4]]));
    const b = requiresGrad(f64([0.5, -0.5]));
    const x = f64([[1, -1]]);
    const loss = x.matmul(w).add(b).square().sum();
    backward(loss);
    // y = x·w + b = [-1.5, -2.5]; ∂L/∂y = 2y; ∂L/∂w = xᵀ·2y; ∂L/∂b = 2y
    expect(w.grad!.arraySync()).toEqual([[-3, -5], [3, 5]]);
    expect(b.grad!.arraySync()).toEqual([-3, -5]);
    expect(x.grad).toBeNull();
    expect(requiresGrad(f64([1])).grad).toBeNull();
  });

  it('gradients accumulate across backward calls until zeroGrad', () => {
    const w = requiresGrad(f64([1, 2]));
    backward(w.square().sum());
    backward(w.mul(3).sum());
    expect(values(w.grad!)).toEqual([5, 7]);
    zeroGrad([w]);
    expect(w.grad).toBeNull();
    backward(w.sum());
    expect(values(w.grad!)).toEqual([1, 1]);
  });

  it('retainGraph keeps the graph for another backward; without it the graph is freed', () => {
    const w = requiresGrad(f64([1, 2]));
    const loss = w.exp().sum();
    backward(loss, undefined, { retainGraph: true });
    backward(loss);
    expect(values(w.grad!)).toEqual([2 * Math.E, 2 * Math.exp(2)]);
    expect(() => backward(loss)).toThrow(/retainGraph/);
  });

  it('backward works through a graph built inside scope() after the scope closed', () => {
    const w = requiresGrad(f64([0.5, -1]));
    const x = f64([2, 3]);
    const loss = scope(() => w.mul(x).tanh().square().sum());
    backward(loss);
    const expected = grad((v: Tensor) => v.mul(x).tanh().square().sum())(f64([0.5, -1]));
    expect(values(w.grad!)).toEqual(values(expected));
  });

  it('a non-scalar output takes an explicit gradient (∂L/∂output)', () => {
    const w = requiresGrad(f64([1, 2, 3]));
    const y = w.square();
    backward(y, f64([1, 0.5, -1]));
    expect(values(w.grad!)).toEqual([2, 2, -6]);
  });

  it('backward of a tensor that requires grad itself gives the seed', () => {
    const w = requiresGrad(f64([1, 2]));
    backward(w, f64([3, 4]));
    expect(values(w.grad!)).toEqual([3, 4]);
  });

  it('requiresGrad(t, false) stops new recording', () => {
    const w = requiresGrad(f64([1]));
    requiresGrad(w, false);
    expect(() => backward(w.mul(2).sum())).toThrow(/does not depend/);
  });

  it('agrees with grad() on an MLP with relu and softmax cross-entropy', () => {
    const [w1, w2] = [U(10, [3, 5]), U(11, [5, 4])];
    const x = U(12, [6, 3]);
    const target = where(U(13, [6, 4]).gt(0.5), 1, 0).cast('float64');
    const loss = (a: Tensor, b: Tensor) => x.matmul(a).relu().matmul(b).logSoftmax(-1).mul(target).sum().neg();
    const [ga, gb] = grad(loss, [0, 1])(w1, w2);
    const [p1, p2] = [requiresGrad(w1.clone()), requiresGrad(w2.clone())];
    scope(() => backward(loss(p1, p2)));
    expect(values(p1.grad!)).toEqual(values(ga));
    expect(values(p2.grad!)).toEqual(values(gb));
  });
});

describe('detectAnomaly', () => {
  it('names the op that made a NaN in the forward pass (log of a negative number)', () => {
    expect(() => detectAnomaly(() => grad((x: Tensor) => x.log().sum())(f64([1, -2])))).toThrow(
      /anomaly: "log" produced NaN at element 1 of its output \(shape \(2\)\) from finite inputs/,
    );
  });

  it('names the op whose backward made an Infinity (d/dx √x at 0)', () => {
    expect(() => detectAnomaly(() => grad((x: Tensor) => x.sqrt().sum())(f64([4, 0])))).toThrow(
      /anomaly: "div" in the backward pass of "sqrt" produced Infinity at element 1/,
    );
    const w = requiresGrad(f64([0]));
    expect(() => detectAnomaly(() => backward(w.sqrt().sum()))).toThrow(/backward pass of "sqrt"/);
  });

  it('works for async functions', async () => {
    const ok = await detectAnomaly(async () => {
      await new Promise((r) => setTimeout(r, 1));
      return f64([2]).log().dataSync()[0];
    });
    expect(ok).toBeCloseTo(Math.LN2, 15);
    await expect(detectAnomaly(async () => {
      const t = f64([-1]);
      await new Promise((r) => setTimeout(r, 1));
      return t.log().dataSync()[0];
    })).rejects.toThrow(/"log" produced NaN/);
  });

  it('stays silent on finite computations, including requested infinities and masked branches', () => {
    const x = U(20, [2, 3], -2, 2);
    const result = detectAnomaly(() => {
      const f = (x: Tensor) =>
        x.logSoftmax(-1).sum() // logsumexp compares against Infinity
          .add(x.softmax(0).max())
          .add(x.pow(2).sum()) // negative bases: the exponent's gradient (log of a negative) is not computed
          .add(x.mul(f64([1, 0, 1])).prod()) // a zero in a product: no 0/0 in its backward
          .add(x.where(tensor([[true, false, true], [false, false, true]]), -Infinity).max(1).sum()) // a masked fill of −∞
          .add(x.abs().add(1).sqrt().sum())
          .add(x.relu().sum());
      const [v, g] = valueAndGrad(f)(x);
      const h = grad((y: Tensor) => grad(f)(y).sum())(x);
      return [v, g, h];
    });
    for (const t of result) expect(values(t).every(Number.isFinite)).toBe(true);
  });
});

describe('gradcheck', () => {
  it('passes on a correct gradient and reports the inputs', () => {
    const r = gradcheck((a, b) => a.matmul(b).tanh(), [U(30, [2, 3]), U(31, [3, 2])]);
    expect(r.ok, r.message).toBe(true);
    expect(r.inputs.map((i) => i.shape)).toEqual([[2, 3], [3, 2]]);
    expect(r.message).toMatch(/^gradcheck passed/);
  });

  it('fails on a wrong gradient, naming the input and the worst element', () => {
    const wrong = customVjp((x: Tensor) => [x.sin(), x] as const, (x, g) => [g.mul(x.cos()).mul(x.mul(0).add(f64([1, 1, 1.01])))]);
    const r = gradcheck((x) => wrong(x), [f64([0.1, 0.2, 0.3])]);
    expect(r.ok).toBe(false);
    expect(r.inputs[0].worst?.element).toBe(2);
    expect(r.message).toMatch(/gradcheck FAILED\ninput 0 \(3\): max abs error .*worst at element 2/);
  });
});

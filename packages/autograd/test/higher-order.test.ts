/**
 * Higher-order derivatives: second derivatives against closed forms, Hessians, Hessian-vector
 * products in all three compositions of the modes, third derivatives, Jacobians, and pytrees.
 */
import { describe, expect, it } from 'vitest';
import { conv2d, gather, maxPool2d, onesLike, random, tensor, Tensor } from '@ml/tensor';
import { checkpoint, grad, gradcheck, hessian, jacobian, jvp, valueAndGrad, vjp } from '@ml/autograd';

const U = (seed: number, shape: readonly number[], lo = -1, hi = 1): Tensor =>
  random.uniform(random.key(seed), shape, { dtype: 'float64', minval: lo, maxval: hi });
const f64 = (data: number | number[] | number[][]): Tensor => tensor(data, { dtype: 'float64' });
const values = (t: Tensor): number[] => Array.from(t.dataSync());

/** Elementwise |a − b| ≤ tol·(1 + |b|). */
function expectClose(actual: Tensor | number[], expected: Tensor | number[], tol = 1e-10): void {
  const a = actual instanceof Tensor ? values(actual) : actual;
  const b = expected instanceof Tensor ? values(expected) : expected;
  expect(a.length).toBe(b.length);
  a.forEach((v, i) => {
    if (!(Math.abs(v - b[i]) <= tol * (1 + Math.abs(b[i])))) {
      throw new Error(`element ${i}: got ${v}, expected ${b[i]} (all: [${a.join(', ')}] vs [${b.join(', ')}])`);
    }
  });
}

/** f″ of an elementwise f, elementwise: the gradient of Σ f′(x). */
const second = (f: (x: Tensor) => Tensor) => grad((x: Tensor) => grad((y: Tensor) => f(y).sum())(x).sum());

describe('second derivatives against closed forms', () => {
  const x = () => U(1, [7], -2, 2);
  const xs = values(x());

  it('tanh″ = −2·tanh·(1 − tanh²)', () => {
    expectClose(second((x) => x.tanh())(x()), xs.map((v) => -2 * Math.tanh(v) * (1 - Math.tanh(v) ** 2)));
  });

  it('sigmoid″ = σ(1 − σ)(1 − 2σ)', () => {
    const s = (v: number) => 1 / (1 + Math.exp(-v));
    expectClose(second((x) => x.sigmoid())(x()), xs.map((v) => s(v) * (1 - s(v)) * (1 - 2 * s(v))));
  });

  it('exp″ = exp', () => {
    expectClose(second((x) => x.exp())(x()), xs.map(Math.exp));
  });

  it('log″ = −1/x²', () => {
    const p = U(2, [6], 0.2, 3);
    expectClose(second((x) => x.log())(p), values(p).map((v) => -1 / (v * v)));
  });

  it('softmax: the Hessian of one component', () => {
    const z = U(3, [4], -2, 2);
    const i = 1;
    const H = hessian((x: Tensor) => x.softmax().slice([i]))(z);
    const s = (() => {
      const e = values(z).map(Math.exp);
      const total = e.reduce((a, b) => a + b, 0);
      return e.map((v) => v / total);
    })();
    const d = (a: number, b: number) => (a === b ? 1 : 0);
    // ∂²sᵢ/∂xⱼ∂xₖ = sᵢ[(δᵢₖ − sₖ)(δᵢⱼ − sⱼ) − sⱼ(δⱼₖ − sₖ)]
    const expected = [0, 1, 2, 3].flatMap((j) => [0, 1, 2, 3].map((k) => s[i] * ((d(i, k) - s[k]) * (d(i, j) - s[j]) - s[j] * (d(j, k) - s[k]))));
    expect(H.shape).toEqual([4, 4]);
    expectClose(H, expected);
  });

  it('logsumexp: the Hessian is diag(p) − p·pᵀ with p = softmax(x)', () => {
    const z = U(4, [5], -3, 3);
    const H = hessian((x: Tensor) => x.logsumexp())(z);
    const e = values(z).map(Math.exp);
    const total = e.reduce((a, b) => a + b, 0);
    const p = e.map((v) => v / total);
    expectClose(H, p.flatMap((pj, j) => p.map((pk, k) => (j === k ? pj : 0) - pj * pk)));
  });
});

describe('Hessians', () => {
  it('of xᵀAx is A + Aᵀ for a non-symmetric A', () => {
    const A = U(5, [4, 4], -2, 2);
    const H = hessian((x: Tensor) => x.matmul(A).matmul(x))(U(6, [4]));
    expectClose(H, A.add(A.transpose()), 1e-12);
    expect(values(A)).not.toEqual(values(A.transpose())); // the test would not see a missing transpose otherwise
  });

  it('is symmetric and matches finite differences of the gradient for an MLP loss', () => {
    const W = U(7, [3, 4]);
    const f = (x: Tensor) => x.matmul(W).tanh().matmul(U(8, [4])).square().add(x.prod());
    const x = U(9, [3]);
    const H = hessian(f)(x);
    expectClose(H, H.transpose(), 1e-12);
    const r = gradcheck(grad(f), [x]);
    expect(r.ok, r.message).toBe(true);
  });
});

describe('second derivatives of every kind of rule (gradcheck of a gradient)', () => {
  const W = U(10, [2, 1, 2, 2]);
  const fns: [string, (x: Tensor) => Tensor, number[]][] = [
    ['elementwise chain', (x) => x.sin().mul(x.exp()).div(x.square().add(1)).sum(), [5]],
    ['pow and mod with tensor exponents', (x) => x.abs().add(0.5).pow(x).sum().add(x.mod(0.7).square().sum()), [5]],
    ['softmax cross-entropy', (x) => x.logSoftmax(-1).mul(f64([[0, 1, 0], [1, 0, 0]])).sum().neg(), [2, 3]],
    ['max and min reductions', (x) => x.max(1).square().sum().add(x.min(0).exp().sum()), [3, 4]],
    ['prod, with a zero', (x) => x.mul(f64([1, 0, 1, 1])).prod().add(x.prod()), [4]],
    ['sort and cumsum', (x) => x.sort(0).cumsum(0).square().sum(), [5]],
    ['gather and pad', (x) => gather(x, 0, tensor([0, 0, 2], { dtype: 'int32' })).pad([[1, 1]], 2).square().sum(), [3]],
    ['views: transpose, slice with steps, flip, expand', (x) => x.transpose().slice('::-1, ::2').expand([2, 2, 2]).exp().sum(), [3, 2]],
    ['conv2d and maxPool2d (col2im runs in the first backward)', (x) => maxPool2d(conv2d(x, W, null, { padding: 1 }), 2).tanh().sum(), [1, 1, 4, 4]],
    ['matmul', (x) => x.matmul(x.transpose()).sin().sum(), [2, 3]],
  ];
  fns.forEach(([name, f, shape], k) => {
    it(name, () => {
      const r = gradcheck(grad(f), [U(100 + k, shape, -1.5, 1.5)]);
      expect(r.ok, r.message).toBe(true);
    });
  });
});

describe('forward and reverse mode agree', () => {
  const composites: [string, (x: Tensor) => Tensor, number[]][] = [
    ['MLP', (x) => x.matmul(U(20, [3, 4])).tanh().matmul(U(21, [4, 2])).softmax(), [5, 3]],
    ['normalisation', (x) => x.sub(x.mean(1, true)).div(x.var(1, true).add(1e-3).sqrt()), [3, 4]],
    ['conv2d + avgPool2d', (x) => conv2d(x, U(22, [2, 1, 3, 3]), null, { padding: 1 }).relu().mean([2, 3]), [2, 1, 4, 4]],
    ['attention', (x) => x.matmul(x.transpose()).div(2).softmax(-1).matmul(x), [4, 3]],
    ['sort, cumsum, gelu', (x) => x.sort(-1).cumsum(-1).gelu(), [2, 5]],
  ];
  composites.forEach(([name, f, shape], k) => {
    it(`⟨u, J·v⟩ = ⟨Jᵀu, v⟩ for ${name}`, () => {
      const x = U(200 + k, shape);
      const v = U(300 + k, shape);
      const [y, jv] = jvp(f, [x], [v]);
      const u = U(400 + k, y.shape);
      const [, pullback] = vjp(f, x);
      const [ju] = pullback(u);
      const lhs = u.mul(jv).sum().dataSync()[0];
      const rhs = ju.mul(v).sum().dataSync()[0];
      expect(Math.abs(lhs - rhs)).toBeLessThan(1e-10 * (1 + Math.abs(lhs)));
    });
  });

  it('jvp computes the same Jacobian as jacobian(), column by column', () => {
    const f = (x: Tensor) => x.matmul(U(30, [3, 3])).sin().cumsum(0);
    const x = U(31, [3]);
    const J = jacobian(f)(x);
    for (let j = 0; j < 3; j++) {
      const e = f64([0, 1, 2].map((i) => (i === j ? 1 : 0)));
      const [, col] = jvp(f, [x], [e]);
      expectClose(col, J.slice([null, j]), 1e-12);
    }
  });
});

describe('Hessian-vector products, three ways', () => {
  const A = U(40, [4, 4]);
  const f = (x: Tensor) => x.matmul(A).tanh().sum().add(x.pow(3).sum()).add(x.softmax().slice([0]));
  const x = U(41, [4]);
  const v = U(42, [4]);
  const Hv = () => hessian(f)(x).matmul(v);

  it('forward over reverse: jvp(grad(f)) = hessian(f)·v', () => {
    const [g, hv] = jvp(grad(f), [x], [v]);
    expectClose(g, grad(f)(x), 1e-14);
    expectClose(hv, Hv());
  });

  it('reverse over forward: grad of ⟨∇f, v⟩ computed by jvp', () => {
    const hv = grad((y: Tensor) => jvp(f, [y], [v])[1])(x);
    expectClose(hv, Hv());
  });

  it('reverse over reverse: grad of ⟨grad(f), v⟩', () => {
    const hv = grad((y: Tensor) => grad(f)(y).mul(v).sum())(x);
    expectClose(hv, Hv());
  });

  it('forward over forward: the second directional derivative vᵀHv', () => {
    const [, d2] = jvp((y: Tensor) => jvp(f, [y], [v])[1], [x], [v]);
    expectClose([d2.dataSync()[0]], [v.mul(Hv()).sum().dataSync()[0]]);
  });

  it('through checkpoint, the same as without it', () => {
    const g = (y: Tensor) => checkpoint(f)(y);
    expectClose(grad((y: Tensor) => grad(g)(y).mul(v).sum())(x), Hv());
  });
});

describe('third derivatives', () => {
  it('grad(grad(grad(f))) of a cubic is 6a', () => {
    const f = (x: Tensor) => x.pow(3).mul(2.5).add(x.square().mul(-4)).add(x.mul(7));
    const d1 = grad(f);
    const d2 = grad((x: Tensor) => d1(x));
    const d3 = grad((x: Tensor) => d2(x));
    const x = f64(0.7);
    expect(d1(x).dataSync()[0]).toBeCloseTo(3 * 2.5 * 0.49 - 8 * 0.7 + 7, 12);
    expect(d2(x).dataSync()[0]).toBeCloseTo(6 * 2.5 * 0.7 - 8, 12);
    expect(d3(x).dataSync()[0]).toBeCloseTo(15, 12);
    expect(d3(f64(-3)).dataSync()[0]).toBeCloseTo(15, 12);
  });

  it('the third derivative of sin is −cos', () => {
    const d3 = grad((x: Tensor) => grad((y: Tensor) => grad((z: Tensor) => z.sin().sum())(y).sum())(x).sum());
    const x = U(50, [5], -3, 3);
    expectClose(d3(x), values(x).map((v) => -Math.cos(v)));
  });
});

describe('Jacobians', () => {
  it('of an elementwise function is diagonal with f′ on the diagonal', () => {
    const x = U(60, [5], -2, 2);
    const J = jacobian((x: Tensor) => x.sin().mul(x))(x);
    expect(J.shape).toEqual([5, 5]);
    const data = values(J);
    const xs = values(x);
    for (let i = 0; i < 5; i++) {
      for (let j = 0; j < 5; j++) {
        const want = i === j ? Math.cos(xs[i]) * xs[i] + Math.sin(xs[i]) : 0;
        expect(data[i * 5 + j]).toBeCloseTo(want, 12);
      }
    }
  });

  it('has shape [...out, ...in] and matches finite differences', () => {
    const f = (x: Tensor) => x.matmul(U(61, [3, 2])).exp();
    const x = U(62, [2, 3]);
    const J = jacobian(f)(x);
    expect(J.shape).toEqual([2, 2, 2, 3]);
    // row (i, j) of the Jacobian is the gradient of f(x)[i, j]
    const row = grad((y: Tensor) => f(y).slice([1, 0]))(x);
    expectClose(J.slice([1, 0]), row, 1e-14);
  });
});

describe('pytrees and argnums', () => {
  const x = U(70, [5, 3]);
  const params = () => ({ w: U(71, [3, 2]), b: U(72, [2]) });
  const loss = (p: { w: Tensor; b: Tensor }, x: Tensor) => x.matmul(p.w).add(p.b).tanh().square().mean();

  it('grad over { w, b } returns { w, b } with the same gradients as positional arguments', () => {
    const p = params();
    const g = grad(loss)(p, x);
    expect(Object.keys(g)).toEqual(['w', 'b']);
    expect(g.w.shape).toEqual([3, 2]);
    expect(g.b.shape).toEqual([2]);
    const [gw, gb] = grad((w: Tensor, b: Tensor) => loss({ w, b }, x), [0, 1])(p.w, p.b);
    expect(values(g.w)).toEqual(values(gw));
    expect(values(g.b)).toEqual(values(gb));
    const r = gradcheck((w, b) => loss({ w, b }, x), [p.w, p.b]);
    expect(r.ok, r.message).toBe(true);
  });

  it('grad over nested arrays and objects keeps the structure; non-tensor leaves pass through', () => {
    const tree = { layers: [{ w: f64([1, 2]) }, { w: f64([3]) }], scale: 2 };
    const g = grad((t: typeof tree) => t.layers[0].w.square().sum().mul(t.scale).add(t.layers[1].w.exp().sum()))(tree);
    expect(g.scale).toBe(2);
    expect(g.layers[0].w.arraySync()).toEqual([4, 8]);
    expect(values(g.layers[1].w)[0]).toBeCloseTo(Math.exp(3), 12);
  });

  it('grad of an array argument', () => {
    const [ga, gb] = grad(([a, b]: Tensor[]) => a.mul(b).sum())([f64([1, 2]), f64([3, 4])]);
    expect(ga.arraySync()).toEqual([3, 4]);
    expect(gb.arraySync()).toEqual([1, 2]);
  });

  it('argnums: one index, or a list giving a tuple; other arguments pass through', () => {
    const f = (a: Tensor, b: Tensor, c: Tensor) => a.mul(b).mul(c.square()).sum();
    const [a, b, c] = [f64([1, 2]), f64([3, 4]), f64([5, 6])];
    expect(grad(f, 1)(a, b, c).arraySync()).toEqual([25, 72]);
    const [ga, gc] = grad(f, [0, 2])(a, b, c);
    expect(ga.arraySync()).toEqual([75, 144]);
    expect(gc.arraySync()).toEqual([30, 96]);
    const [value, [gb]] = valueAndGrad(f, [1])(a, b, c);
    expect(value.dataSync()[0]).toBe(75 + 288);
    expect(gb.arraySync()).toEqual([25, 72]);
  });

  it('vjp over a tree of outputs takes a tree of cotangents', () => {
    const [out, pullback] = vjp((p: { w: Tensor; b: Tensor }) => ({ y: p.w.mul(2), z: [p.b.exp()] }), { w: f64([1, 2]), b: f64([0]) });
    expect(out.y.arraySync()).toEqual([2, 4]);
    const [g] = pullback({ y: f64([1, 1]), z: [onesLike(out.z[0])] });
    expect(g.w.arraySync()).toEqual([2, 2]);
    expect(g.b.arraySync()).toEqual([1]);
  });
});

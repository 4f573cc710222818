import { describe, expect, it } from 'vitest';
import { memory, tensor, Tensor, scope } from '@ml/tensor';
import { backward, grad, gradcheck, hessian, jvp, requiresGrad, vjp, checkpoint, customVjp } from '@ml/autograd';

describe('smoke', () => {
  it('grad of x^3', () => {
    const g = grad((x: Tensor) => x.pow(3).sum())(tensor([2, -1]));
    expect(g.arraySync()).toEqual([12, 3]);
  });
  it('second derivative of tanh', () => {
    const x = tensor([0.5], { dtype: 'float64' });
    const d2 = grad(grad((x: Tensor) => x.tanh().sum()))(x);
    const t = Math.tanh(0.5);
    expect((d2.arraySync() as number[])[0]).toBeCloseTo(-2 * t * (1 - t * t), 12);
  });
  it('broadcast and matmul gradcheck', () => {
    const a = tensor([[1, 2, 3], [4, 5, 6]], { dtype: 'float64' });
    const b = tensor([[0.5], [-1], [2]], { dtype: 'float64' });
    const c = tensor([1, 2], { dtype: 'float64' });
    const r = gradcheck((a, b, c) => a.matmul(b).add(c).tanh().sum(), [a, b, c]);
    expect(r.ok, r.message).toBe(true);
  });
  it('many ops gradcheck', () => {
    const x = tensor([[0.3, -1.2, 2.0], [0.7, 0.1, -0.4]], { dtype: 'float64' });
    const fs: ((x: Tensor) => Tensor)[] = [
      (x) => x.softmax(-1).mul(tensor([1, 2, 3], { dtype: 'float64' })).sum(),
      (x) => x.logsumexp(0).sum(),
      (x) => x.max(1).sum(),
      (x) => x.var(1).sum(),
      (x) => x.transpose().slice('::-1, 1:').exp().sum(),
      (x) => x.cumsum(1).square().sum(),
      (x) => x.sort(1).mul(tensor([1, 2, 3], { dtype: 'float64' })).sum(),
      (x) => x.gelu('tanh').sum().add(x.gelu().sum()),
      (x) => x.sigmoid().mul(x.erf()).sum(),
      (x) => x.prod(1).sum(),
      (x) => x.pad([[1, 0], [0, 2]]).mul(2).sum(),
      (x) => x.abs().sqrt().sum(),
    ];
    for (const f of fs) {
      const r = gradcheck(f, [x]);
      expect(r.ok, `${f}\n${r.message}`).toBe(true);
    }
  });
  it('hessian of quadratic form is A + At', () => {
    const A = tensor([[1, 2], [3, 4]], { dtype: 'float64' });
    const H = hessian((x: Tensor) => x.matmul(A).matmul(x))(tensor([0.5, -1], { dtype: 'float64' }));
    expect(H.arraySync()).toEqual([[2, 5], [5, 8]]);
  });
  it('jvp agrees with vjp', () => {
    const x = tensor([0.3, -0.2, 0.9], { dtype: 'float64' });
    const f = (x: Tensor) => x.matmul(tensor([[1, 2], [3, 4], [5, 6]], { dtype: 'float64' })).tanh().softmax();
    const v = tensor([1, -1, 0.5], { dtype: 'float64' });
    const u = tensor([0.2, 0.7], { dtype: 'float64' });
    const [, jv] = jvp(f, [x], [v]);
    const [, pb] = vjp(f, x);
    const [ju] = pb(u);
    const lhs = (u.mul(jv).sum().arraySync() as number);
    const rhs = (ju.mul(v).sum().arraySync() as number);
    expect(lhs).toBeCloseTo(rhs, 12);
  });
  it('torch style backward accumulates and frees', () => {
    const before = memory();
    const w = requiresGrad(tensor([1, 2, 3]));
    scope(() => {
      const loss = w.square().sum();
      backward(loss);
    });
    expect(w.grad!.arraySync()).toEqual([2, 4, 6]);
    scope(() => backward(w.mul(3).sum()));
    expect(w.grad!.arraySync()).toEqual([5, 7, 9]);
    w.grad!.dispose();
    w.dispose();
    expect(memory().tensors).toBe(before.tensors);
    expect(memory().buffers).toBe(before.buffers);
  });
  it('checkpoint and customVjp', () => {
    const x = tensor([0.1, 0.5], { dtype: 'float64' });
    const f = (x: Tensor) => x.sin().exp().mul(x).sum();
    const g1 = grad(f)(x).arraySync();
    const g2 = grad((x: Tensor) => checkpoint(f)(x))(x).arraySync();
    expect(g2).toEqual(g1);
    const sq = customVjp((x: Tensor) => [x.square(), x] as const, (x, g) => [g.mul(x).mul(2).clip(-1, 1)]);
    expect(grad((x: Tensor) => sq(x).sum())(tensor([0.1, 3])).arraySync()).toEqual([expect.closeTo(0.2, 6), 1]);
  });
});

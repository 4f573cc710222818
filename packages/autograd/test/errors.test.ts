/**
 * Misuse gives errors that name the function, the argument and the shapes, and leaves nothing
 * behind (no leaked tensors, a pullback that can still be used after a rejected call).
 */
import { describe, expect, it } from 'vitest';
import { memory, tensor, Tensor } from '@ml/tensor';
import type { NestedArray } from '@ml/tensor';
import { backward, grad, hessian, jvp, requiresGrad, valueAndGrad, vjp, vjpWith } from '@ml/autograd';

const f64 = (data: NestedArray): Tensor => tensor(data, { dtype: 'float64' });
const i32 = (data: NestedArray): Tensor => tensor(data, { dtype: 'int32' });

/** Runs `fn` (which must throw) and returns its error message; checks that it leaked nothing. */
function failure(fn: () => unknown): string {
  const before = memory();
  let message = '';
  try {
    fn();
  } catch (e) {
    message = (e as Error).message;
  }
  expect(message, 'expected an error').not.toBe('');
  const after = memory();
  expect(after.tensors, `leaked tensors after: ${message}`).toBe(before.tensors);
  expect(after.buffers, `leaked buffers after: ${message}`).toBe(before.buffers);
  return message;
}

describe('grad of a non-scalar output', () => {
  it('names grad and the output shape, and suggests vjp', () => {
    const x = f64([[1, 2, 3], [4, 5, 6]]);
    const message = failure(() => grad((x: Tensor) => x.mul(2))(x));
    expect(message).toMatch(/^grad: f must return a scalar float tensor, got shape \(2, 3\) float64; use vjp/);
  });

  it('from valueAndGrad and hessian too', () => {
    const x = f64([1, 2]);
    expect(failure(() => valueAndGrad((x: Tensor) => x.exp())(x))).toMatch(/^grad: .*scalar.*got shape \(2,\)/);
    expect(failure(() => hessian((x: Tensor) => x.exp())(x))).toMatch(/^grad: .*scalar.*got shape \(2,\)/);
  });

  it('an integer or non-tensor result is refused as well', () => {
    const x = f64([1.5, 2.5]);
    expect(failure(() => grad((x: Tensor) => x.argmax())(x))).toMatch(/^grad: f must return a scalar float tensor, got shape \(\) int32/);
    expect(failure(() => grad((() => [x.sum()]) as unknown as (x: Tensor) => Tensor)(x))).toMatch(/^grad: f must return a tensor, got object/);
  });
});

describe('vjp cotangents', () => {
  it('a cotangent of the wrong shape names vjp and both shapes; the pullback stays usable', () => {
    const x = f64([1, 2, 3, 4]);
    const [y, pullback] = vjp((x: Tensor) => x.reshape([2, 2]).exp(), x);
    expect(() => pullback(f64([1, 1, 1]))).toThrow(/^vjp: cotangent 0 has shape \(3,\) but the output has shape \(2, 2\)$/);
    const [g] = pullback(f64([[1, 0], [0, 1]]));
    expect(Array.from(g.dataSync())).toEqual([Math.E, 0, 0, Math.exp(4)]);
    y.dispose();
  });

  it('the wrong number of cotangents', () => {
    const [, pullback] = vjp((a: Tensor) => [a.exp(), a.sin()], f64([1]));
    expect(() => pullback([f64([1])])).toThrow(/^vjp: expected 2 cotangent tensor\(s\) matching the outputs, got 1$/);
    pullback.dispose();
  });
});

describe('graphs used twice', () => {
  it('calling a pullback twice names vjp and retainGraph', () => {
    const [, pullback] = vjp((x: Tensor) => x.exp().sum(), f64([1, 2]));
    pullback(f64(1));
    expect(() => pullback(f64(1))).toThrow(/^vjp: the pullback was already called and its saved tensors freed; pass \{ retainGraph: true \}/);
  });

  it('with retainGraph the pullback can be called again, with the same result', () => {
    const [, pullback] = vjpWith({ retainGraph: true }, (x: Tensor) => x.exp().sum(), f64([1, 2]));
    const [a] = pullback(f64(1));
    const [b] = pullback(f64(2));
    expect(Array.from(b.dataSync())).toEqual(Array.from(a.dataSync()).map((v) => 2 * v));
    pullback.dispose();
  });

  it('backward twice through freed buffers names backward, the op and retainGraph', () => {
    const w = requiresGrad(f64([1, 2]));
    const loss = w.exp().sum();
    backward(loss);
    expect(() => backward(loss)).toThrow(/^backward: the graph through "sum" was already used and its saved tensors freed; pass \{ retainGraph: true \}/);
    expect(Array.from(w.grad!.dataSync())).toEqual([Math.E, Math.exp(2)]); // the failed call added nothing
  });
});

describe('integer tensors', () => {
  it('grad with respect to an int32 argument names grad, its position and shape', () => {
    const f = (a: Tensor, k: Tensor) => a.mul(k).sum();
    const [a, k, k21] = [f64([1, 2]), i32([3, 4]), i32([[1], [2]])];
    expect(failure(() => grad(f, 1)(a, k))).toBe('grad: argument 1 (shape (2,)) has dtype int32; only float32/float64 tensors can be differentiated');
    expect(failure(() => grad(f, [0, 1])(a, k))).toMatch(/^grad: argument 1 \(shape \(2,\)\) has dtype int32/);
    expect(failure(() => grad((p: { k: Tensor }) => p.k.sum())({ k: k21 }))).toMatch(/^grad: argument 0 \(shape \(2, 1\)\) has dtype int32/);
  });

  it('vjp and jvp refuse integer arguments too', () => {
    const [k3, k1, t1] = [i32([1, 2, 3]), i32([1]), f64([1])];
    expect(failure(() => vjp((k: Tensor) => k.sum(), k3))).toMatch(/^vjp: argument 0 \(shape \(3,\)\) has dtype int32/);
    expect(failure(() => jvp((k: Tensor) => k.sum(), [k1], [t1]))).toMatch(/^jvp: primal 0 has dtype int32; only float tensors have tangents/);
  });

  it('requiresGrad on an int tensor names requiresGrad, the dtype and the shape', () => {
    expect(() => requiresGrad(i32([[1, 2], [3, 4]]))).toThrow(
      /^requiresGrad: only float tensors can require gradients, got int32 \(shape \(2, 2\)\)$/,
    );
    expect(() => requiresGrad(tensor([true]))).toThrow(/got bool \(shape \(1\)\)/);
  });
});

describe('backward', () => {
  it('on an output that depends on no tensor requiring grad names backward and the output shape', () => {
    const x = f64([1, 2, 3]);
    expect(() => backward(x.mul(2))).toThrow(/^backward: the output \(shape \(3\)\) does not depend on any tensor that requires grad/);
  });

  it('of a non-scalar output without a gradient names the shape', () => {
    const w = requiresGrad(f64([[1, 2, 3], [4, 5, 6]]));
    expect(() => backward(w.mul(2))).toThrow(/^backward: grad can be implicitly created only for scalar outputs, got shape \(2, 3\); pass a gradient$/);
    expect(w.grad).toBeNull();
  });

  it('with a gradient of the wrong shape names both shapes', () => {
    const w = requiresGrad(f64([1, 2, 3]));
    expect(() => backward(w.mul(2), f64([1, 2]))).toThrow(/^backward: gradient shape \(2\) differs from output shape \(3\)$/);
  });

  it('of a disposed output', () => {
    const w = requiresGrad(f64([1, 2, 3]));
    const loss = w.sum();
    loss.dispose();
    expect(() => backward(loss)).toThrow(/^backward: the output tensor was disposed$/);
  });
});

describe('arguments', () => {
  it('argnums out of range names grad, the index and the argument count', () => {
    expect(() => grad((a: Tensor) => a.sum(), 2)(f64([1]))).toThrow(/^grad: argnums 2 is out of range for 1 argument\(s\)$/);
    expect(() => grad((a: Tensor) => a.sum(), [0, -1])(f64([1]))).toThrow(/^grad: argnums -1 is out of range/);
  });

  it('a disposed argument names the transform, the argument and its shape', () => {
    const x = f64([[1, 2]]);
    x.dispose();
    expect(() => vjp((x: Tensor) => x.sum(), x)).toThrow(/^vjp: argument 0 \(shape \(1, 2\)\) was disposed$/);
    expect(() => grad((x: Tensor) => x.sum())(x)).toThrow(/^grad: argument 0 \(shape \(1, 2\)\) was disposed$/);
  });

  it('jvp: a tangent of the wrong shape or count', () => {
    expect(() => jvp((x: Tensor) => x.exp(), [f64([1, 2])], [f64([1, 2, 3])])).toThrow(/^jvp: tangent 0 has shape \(3,\) but its primal has shape \(2,\)$/);
    expect(() => jvp((x: Tensor) => x.exp(), [f64([1, 2])], [] as unknown as [Tensor])).toThrow(/^jvp: got 1 primal tensor\(s\) but 0 tangent\(s\)$/);
  });

  it('an error inside f frees what the transform made', () => {
    const [x, v] = [f64([1, 2]), f64([1, 1])];
    expect(failure(() => grad((x: Tensor) => x.exp().reshape([3]).sum())(x))).toMatch(/^reshape: cannot reshape \(2,\)/);
    expect(failure(() => jvp((x: Tensor) => x.exp().reshape([3]), [x], [v]))).toMatch(/^reshape: cannot reshape \(2,\)/);
    expect(failure(() => vjp((x: Tensor) => x.sin().reshape([3]), x))).toMatch(/^reshape/);
  });
});

/** Gradient rules of reductions, cumsum and sort. */
import { cast, cumsum, div, eq, flip, mul, reshape, scatterAdd, sum, where, zeros } from '@ml/tensor';
import type { Tensor } from '@ml/tensor';
import type { GradRule, TensorMeta } from './types.js';

/** The reduced output's cotangent with the reduced axes restored as size 1, broadcast to the input. */
function spread(g: Tensor, input: TensorMeta, axes: readonly number[]): Tensor {
  const kept = input.shape.map((d, i) => (axes.includes(i) ? 1 : d));
  return reshape(g, kept).expand([...input.shape]);
}

export const REDUCE_RULES: Record<string, GradRule> = {
  // ∂Σx/∂xᵢ = 1
  sum: {
    linear: true,
    save: { inputs: false, outputs: false },
    vjp: ({ inputMetas: [x], params }, [g]) => [spread(g, x, params.axes)],
  },
  // ∂Πx/∂xᵢ = Π_{j≠i} xⱼ, computed without dividing by zero: with one zero in a group only
  // that element gets a gradient (the product of the others), with two or more none does
  prod: {
    save: { inputs: true, outputs: true },
    vjp: ({ inputs: [x], outputs: [y], inputMetas: [m], params }, [g]) => {
      const axes: number[] = params.axes;
      const isZero = eq(x, 0);
      const zerosInGroup = spread(sum(isZero, axes), m, axes);
      const nonzeroProd = spread(x.where(isZero.logicalNot(), 1).prod(axes), m, axes);
      // y / x only where x ≠ 0 (dividing by a masked 1 keeps 0/0 out of higher derivatives)
      const others = where(isZero, where(zerosInGroup.eq(1), nonzeroProd, 0), div(spread(y, m, axes), where(isZero, 1, x)));
      return [mul(spread(g, m, axes), others)];
    },
  },
  max: extremumRule(),
  min: extremumRule(),
  argmax: { save: { inputs: false, outputs: false }, vjp: () => [null] },
  argmin: { save: { inputs: false, outputs: false }, vjp: () => [null] },
  // the cotangent of a running sum is the reversed running sum of the cotangent
  cumsum: {
    linear: true,
    save: { inputs: false, outputs: false },
    vjp: ({ params }, [g]) => [flip(cumsum(flip(g, params.axis), params.axis), params.axis)],
  },
  // values[i] = x[indices[i]]: send each value's cotangent back to where it came from
  sort: {
    save: { inputs: false, outputs: true },
    vjp: ({ outputs: [, indices], inputMetas: [x], params }, [gv]) => [
      scatterAdd(zeros(x.shape, { dtype: gv.dtype, backend: gv.backend }), params.axis, indices, gv),
    ],
  },
};

/**
 * max/min over axes: the cotangent goes to the elements equal to the result, split evenly among
 * ties (PyTorch's amax/amin convention), so the rule does not depend on which tie a kernel picked.
 */
function extremumRule(): GradRule {
  return {
    save: { inputs: true, outputs: true },
    vjp: ({ inputs: [x], outputs: [y], inputMetas: [m], params }, [g]) => {
      const axes: number[] = params.axes;
      const hit = cast(eq(x, spread(y, m, axes)), g.dtype);
      const count = spread(sum(hit, axes), m, axes);
      return [mul(spread(g, m, axes), div(hit, count))];
    },
  };
}

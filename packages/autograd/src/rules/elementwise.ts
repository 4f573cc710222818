/**
 * Gradient rules of the elementwise primitives. Inputs of binary ops already have equal shapes:
 * the front end broadcast them with `expand` views, whose own rule sums the cotangent back.
 */
import { cast, cos, div, eq, exp, floor, isFloat, log, mul, neg, sign, sin, square, sub, where } from '@ml/tensor';
import type { Tensor } from '@ml/tensor';
import type { GradRule } from './types.js';

const TWO_OVER_SQRT_PI = 2 / Math.sqrt(Math.PI);

/** A unary rule g ↦ g · f'(x), given f' in terms of the input x and output y. */
function unary(derivative: (x: Tensor, y: Tensor) => Tensor, save: GradRule['save'] = {}): GradRule {
  return {
    elementwise: true,
    save,
    vjp: ({ inputs, outputs }, [g]) => [mul(g, derivative(inputs[0], outputs[0]))],
  };
}

/** Rules that give no gradient (piecewise-constant functions: the derivative is 0 almost everywhere). */
const zero: GradRule = { elementwise: true, save: { inputs: false, outputs: false }, vjp: () => [null] };

export const ELEMENTWISE_RULES: Record<string, GradRule> = {
  neg: { linear: true, elementwise: true, save: { inputs: false, outputs: false }, vjp: (_c, [g]) => [neg(g)] },
  copy: { linear: true, elementwise: true, save: { inputs: false, outputs: false }, vjp: (_c, [g]) => [g] },
  abs: unary((x) => sign(x), { inputs: true, outputs: false }), // |x|' = sign(x), 0 at 0
  sign: zero,
  floor: zero,
  ceil: zero,
  round: zero,
  exp: unary((_x, y) => y, { inputs: false, outputs: true }),
  log: { elementwise: true, save: { inputs: true, outputs: false }, vjp: ({ inputs }, [g]) => [div(g, inputs[0])] },
  log1p: { elementwise: true, save: { inputs: true, outputs: false }, vjp: ({ inputs }, [g]) => [div(g, inputs[0].add(1))] },
  expm1: unary((_x, y) => y.add(1), { inputs: false, outputs: true }),
  sqrt: { elementwise: true, save: { inputs: false, outputs: true }, vjp: ({ outputs }, [g]) => [div(g, outputs[0].mul(2))] },
  rsqrt: unary((_x, y) => y.mul(y).mul(y).mul(-0.5), { inputs: false, outputs: true }),
  sin: unary((x) => cos(x), { inputs: true, outputs: false }),
  cos: unary((x) => neg(sin(x)), { inputs: true, outputs: false }),
  tanh: unary((_x, y) => sub(1, square(y)), { inputs: false, outputs: true }),
  sigmoid: unary((_x, y) => y.mul(sub(1, y)), { inputs: false, outputs: true }),
  erf: unary((x) => exp(neg(square(x))).mul(TWO_OVER_SQRT_PI), { inputs: true, outputs: false }),
  erfinv: unary((_x, y) => exp(square(y)).mul(1 / TWO_OVER_SQRT_PI), { inputs: false, outputs: true }),
  cast: {
    linear: true,
    elementwise: true,
    save: { inputs: false, outputs: false },
    vjp: ({ inputMetas }, [g]) => [isFloat(inputMetas[0].dtype) ? cast(g, inputMetas[0].dtype) : null],
  },

  add: { linear: true, elementwise: true, save: { inputs: false, outputs: false }, vjp: (_c, [g]) => [g, g] },
  sub: { linear: true, elementwise: true, save: { inputs: false, outputs: false }, vjp: (_c, [g]) => [g, neg(g)] },
  mul: {
    elementwise: true,
    save: { inputs: true, outputs: false },
    vjp: ({ inputs: [a, b], needsGrad }, [g]) => [
      needsGrad?.[0] === false ? null : mul(g, b),
      needsGrad?.[1] === false ? null : mul(g, a),
    ],
  },
  div: {
    elementwise: true,
    save: { inputs: true, outputs: true },
    vjp: ({ inputs: [, b], outputs: [y], needsGrad }, [g]) => {
      const ga = div(g, b);
      return [ga, needsGrad?.[1] === false ? null : neg(mul(ga, y))]; // ∂(a/b)/∂b = −a/b² = −y/b
    },
  },
  pow: {
    elementwise: true,
    save: { inputs: true, outputs: true },
    vjp: ({ inputs: [a, b], outputs: [y], needsGrad }, [g]) => {
      // ∂aᵇ/∂a = b·aᵇ⁻¹ (0 where b = 0); ∂aᵇ/∂b = aᵇ·log a, taken as 0 where a = 0 and b ≥ 0 (PyTorch).
      // The masked-out branches are kept finite, so no NaN reaches anomaly checks or higher
      // derivatives; ∂/∂b is skipped when b is a constant (log a is NaN for a < 0).
      const bZero = eq(b, 0);
      const zeroBase = eq(a, 0).logicalAnd(b.ge(0));
      const da = needsGrad?.[0] === false ? null : where(bZero, 0, mul(b, a.pow(where(bZero, 1, sub(b, 1)))));
      const db = needsGrad?.[1] === false ? null : where(zeroBase, 0, mul(y, log(where(zeroBase, 1, a))));
      return [da && mul(g, da), db && mul(g, db)];
    },
  },
  maximum: minMaxRule(true),
  minimum: minMaxRule(false),
  mod: {
    elementwise: true,
    save: { inputs: true, outputs: false },
    // a mod b = a − floor(a/b)·b
    vjp: ({ inputs: [a, b] }, [g]) => [g, neg(mul(g, floor(div(a, b))))],
  },
  where: {
    elementwise: true,
    save: { inputs: true, outputs: false },
    vjp: ({ inputs: [c], needsGrad }, [g]) => [
      null,
      needsGrad?.[1] === false ? null : where(c, g, 0),
      needsGrad?.[2] === false ? null : where(c, 0, g),
    ],
  },
};

/**
 * max(a, b) sends the gradient to the larger input; ties split it evenly (½ each), as PyTorch
 * does, so the rule is symmetric.
 */
function minMaxRule(isMax: boolean): GradRule {
  return {
    elementwise: true,
    save: { inputs: true, outputs: false },
    vjp: ({ inputs: [a, b] }, [g]) => {
      const aWins = isMax ? a.gt(b) : a.lt(b);
      const tie = eq(a, b);
      const shareA = where(tie, 0.5, where(aWins, 1, 0));
      const ga = mul(g, cast(shareA, g.dtype));
      return [ga, sub(g, ga)];
    },
  };
}

for (const op of ['eq', 'ne', 'lt', 'le', 'gt', 'ge', 'logicalAnd', 'logicalOr', 'logicalXor', 'logicalNot']) {
  ELEMENTWISE_RULES[op] = { save: { inputs: false, outputs: false }, vjp: (c) => c.inputMetas.map(() => null) };
}


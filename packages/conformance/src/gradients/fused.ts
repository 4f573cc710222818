/**
 * Gradients of the fused primitives: conv2d called directly (stride, padding, dilation, 1×1)
 * against finite differences of the loops in `conv-reference.ts`; and adamStep, whose rule must
 * refuse to differentiate (an optimizer update is applied outside any graph), in reverse and
 * forward mode.
 */
import type { Tensor } from '@ml/tensor';
import * as T from '@ml/tensor';
import { grad, jvp, vjp } from '@ml/autograd';
import { describe, expect } from 'vitest';
import { rngFor } from '../harness.js';
import * as C from './conv-reference.js';
import type { GradContext } from './harness.js';
import { checkGradient, describeGrad, drawInputs, gradCase, gradDtypes, layoutAt } from './harness.js';

type Pair = [number, number];

const PRIMITIVE_CASES: readonly { x: number[]; w: number[]; stride: Pair; padding: Pair; dilation: Pair }[] = [
  { x: [2, 2, 5, 4], w: [3, 2, 3, 2], stride: [1, 1], padding: [0, 0], dilation: [1, 1] },
  { x: [1, 3, 7, 6], w: [2, 3, 3, 3], stride: [2, 2], padding: [1, 2], dilation: [1, 1] },
  { x: [2, 2, 7, 7], w: [2, 2, 2, 3], stride: [1, 2], padding: [2, 1], dilation: [2, 2] },
  { x: [2, 3, 4, 3], w: [4, 3, 1, 1], stride: [2, 1], padding: [1, 0], dilation: [1, 1] },
];

/** What an attempt to differentiate through adamStep must say. */
const NOT_DIFFERENTIABLE = /^adamStep: the fused Adam update is not differentiable/;

export function fusedGradients(ctx: GradContext): void {
  describe('fused', () => {
    gradCase(ctx, "conv2d primitive (apply1('conv2d')): input and weight", async () => {
      for (const dtype of gradDtypes(ctx)) {
        const rng = rngFor(ctx, `grad/conv2d-primitive/${dtype}`);
        for (const [i, c] of PRIMITIVE_CASES.entries()) {
          const params = { stride: c.stride, padding: c.padding, dilation: c.dilation };
          const inputs = drawInputs(rng, [c.x, c.w], dtype, [layoutAt(c.x, i), layoutAt(c.w, i + 2)]);
          await checkGradient(ctx, `conv2d primitive stride (${c.stride}) padding (${c.padding}) dilation (${c.dilation}) (${inputs.map(describeGrad).join(', ')})`, {
            dtype,
            inputs,
            run: (x: Tensor, w: Tensor) => T.apply1('conv2d', [x, w], params),
            ref: (x, w) => C.conv2d(x, w, null, params),
          });
        }
      }
    });

    gradCase(ctx, 'adamStep refuses to be differentiated (vjp, grad, jvp)', () => {
      const be = ctx.backend;
      const [dtype] = gradDtypes(ctx);
      const h = { lr: 0.1, beta1: 0.9, beta2: 0.999, eps: 1e-8, step: 1 };
      T.scope(() => {
        const z = (v: number) => T.full([3], v, { dtype, backend: be });
        const [p, g, m, v] = [z(1), z(0.5), z(0), z(0.25)];
        const [cotangent, tangent] = [z(1), z(1)];
        // the new parameter only: the new moments are freed
        const update = (param: Tensor, gradient: Tensor) => T.scope(() => T.adamStep(param, gradient, m, v, h).param);
        // reverse mode: the forward pass runs; the pullback refuses
        expect(() => {
          const [y, pullback] = vjp((a: Tensor) => update(a, g), p);
          try {
            pullback(cotangent);
          } finally {
            y.dispose();
          }
        }).toThrow(NOT_DIFFERENTIABLE);
        expect(() => grad((a: Tensor, b: Tensor) => T.scope(() => update(a, b).sum()))(p, g)).toThrow(NOT_DIFFERENTIABLE);
        expect(() => jvp((a: Tensor) => update(a, g), [p], [tangent])).toThrow(NOT_DIFFERENTIABLE);
      });
      // the rule ran (and refused): that is all there is to cover for a non-differentiable update
      ctx.covered.add('adamStep');
    });
  });
}

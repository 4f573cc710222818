/** Gradient rules of the fused primitives: conv2d, softmax, logSoftmax (and adamStep, which has none). */
import { apply1, exp, matmul, mul, reshape, sub, sum, transpose } from '@ml/tensor';
import type { GradRule } from './types.js';

export const CONV_RULES: Record<string, GradRule> = {
  // y = W·im2col(x) per image, with W the filters as (O, C·kh·kw):
  //   x̄ = col2im(Wᵀ·ȳ)                 (the adjoint of im2col scatters the columns back)
  //   W̄ = Σₙ ȳₙ·im2col(x)ₙᵀ
  conv2d: {
    save: { inputs: true, outputs: false },
    vjp: ({ inputs: [x, w], params, needsGrad }, [g]) => {
      const [n, c, h, wd] = x.shape;
      const [o, , kh, kw] = w.shape;
      const window = { kernel: [kh, kw], stride: params.stride, padding: params.padding, dilation: params.dilation, padValue: 0 };
      const l = g.shape[2] * g.shape[3];
      const g3 = reshape(g, [n, o, l]); // (N, O, L)
      const wm = reshape(w, [o, c * kh * kw]); // (O, kk)
      const dx = needsGrad?.[0] === false ? null : apply1('col2im', [matmul(transpose(wm), g3)], { ...window, size: [h, wd] });
      const dw = needsGrad?.[1] === false ? null : reshape(sum(matmul(g3, transpose(apply1('im2col', [x], window))), 0), w.shape);
      return [dx, dw];
    },
  },
  // y = softmax(x) along a: x̄ = y ⊙ (ȳ − Σₐ ȳ ⊙ y)
  softmax: {
    save: { inputs: false, outputs: true },
    vjp: ({ outputs: [y], params }, [g]) => [mul(y, sub(g, sum(mul(g, y), params.axis, true)))],
  },
  // y = log softmax(x) along a: x̄ = ȳ − exp(y) ⊙ Σₐ ȳ
  logSoftmax: {
    save: { inputs: false, outputs: true },
    vjp: ({ outputs: [y], params }, [g]) => [sub(g, mul(exp(y), sum(g, params.axis, true)))],
  },
  // an optimizer update is applied outside any graph; differentiating through one (meta-learning)
  // needs the composite form, whose ops all have rules
  adamStep: {
    save: { inputs: false, outputs: false },
    vjp: () => {
      throw new Error('adamStep: the fused Adam update is not differentiable; write the update in elementwise ops to differentiate through it');
    },
  },
};

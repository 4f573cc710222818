/**
 * @ml/autograd: differentiation for @ml/tensor, two ways.
 *
 * JAX-style transformations that compose — `grad`, `valueAndGrad`, `vjp`, `jvp`, `jacobian`,
 * `hessian` — and PyTorch-style training — `requiresGrad(t)`, `backward(loss)`, `t.grad`,
 * `zeroGrad`. Plus `customVjp`, `stopGradient`, `noGrad`, `checkpoint`, `detectAnomaly` and
 * `gradcheck`.
 *
 * @example
 * ```ts
 * import { grad } from '@ml/autograd';
 * import { tensor } from '@ml/tensor';
 * const f = (x: Tensor) => x.tanh().sum();
 * await grad(grad(f))(tensor([0.5])).array(); // −2·tanh(0.5)·(1 − tanh²(0.5))
 * ```
 * @packageDocumentation
 */
export { detectAnomaly } from './anomaly.js';
export { checkpoint, customVjp, stopGradient } from './custom.js';
export { gradcheck } from './gradcheck.js';
export type { GradcheckInputReport, GradcheckOptions, GradcheckReport } from './gradcheck.js';
export type { BackwardOptions } from './level.js';
export { leaves, mapTree } from './pytree.js';
export type { Tree } from './pytree.js';
export { GRAD_RULES } from './rules/index.js';
export type { GradRule, RuleContext, TensorMeta } from './rules/index.js';
export { noGrad } from './state.js';
export { backward, requiresGrad, zeroGrad } from './torch.js';
export { grad, hessian, jacobian, jvp, valueAndGrad, vjp, vjpWith } from './transforms.js';
export type { Pullback } from './transforms.js';

import type { DType, Tensor } from '@ml/tensor';

/** Shape and dtype of a tensor the rule may not hold a value for. */
export interface TensorMeta {
  readonly shape: readonly number[];
  readonly dtype: DType;
}

/** What a gradient rule sees of the op it differentiates. */
export interface RuleContext {
  /** The op's inputs (saved values; only present when the rule saves inputs). */
  readonly inputs: readonly Tensor[];
  /** The op's outputs (saved values; only present when the rule saves outputs). */
  readonly outputs: readonly Tensor[];
  readonly inputMetas: readonly TensorMeta[];
  readonly outputMetas: readonly TensorMeta[];
  readonly params: Readonly<Record<string, any>>;
  /**
   * Which inputs need a cotangent (absent: all of them). A rule may return null for the others
   * and skip that work (PyTorch's `needs_input_grad`).
   */
  readonly needsGrad?: readonly boolean[];
}

/**
 * The gradient rule of one primitive (or view op).
 *
 * `vjp` maps the cotangents of the outputs (zeros where an output had none) to the cotangents of
 * the inputs (null for inputs that get no gradient: indices, conditions, integer inputs). It is
 * written in tensor ops, so it can itself be differentiated (higher-order gradients).
 */
export interface GradRule {
  vjp(ctx: RuleContext, cotangents: readonly Tensor[]): (Tensor | null)[];
  /** Which values the rule needs (default: both). Saving less frees memory sooner. */
  save?: { inputs?: boolean; outputs?: boolean };
  /**
   * True for elementwise ops of same-shape inputs: their Jacobians are diagonal, so the
   * forward-mode tangent is Σᵢ vjpᵢ(tangentᵢ) and no separate jvp rule is needed.
   */
  elementwise?: boolean;
  /** True for ops that are linear in all inputs: the tangent is the op applied to the tangents. */
  linear?: boolean;
}

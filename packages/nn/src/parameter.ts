/**
 * Parameters and buffers: the tensors a module owns and updates. Tensors are immutable; these two
 * subclasses can be pointed at a new value with `assign`, which is how optimizers step and how
 * `loadStateDict` loads. Anything that read the old value (a view, a value autograd saved for
 * backward, a `stateDict()` snapshot) keeps the old contents.
 */
import { requiresGrad } from '@ml/autograd';
import { Tensor } from '@ml/tensor';

/** A tensor owned by a module whose contents can be replaced (base of Parameter and Buffer). */
export abstract class ModuleTensor extends Tensor {
  /**
   * Takes over `data`'s buffer; `data` itself is disposed, so write `new Parameter(zeros([3]))`
   * without leaking a temporary. The new tensor belongs to no `scope`: it lives until disposed.
   */
  constructor(data: Tensor) {
    if (!(data instanceof Tensor)) throw new Error(`${new.target.name}: expected a Tensor, got ${typeof data}`);
    if (data.isDisposed) throw new Error(`${new.target.name}: the tensor (shape (${data.shape.join(', ')})) was disposed`);
    super(data.ref, data.shape, data.strides, data.offset);
    data.dispose();
  }

  /**
   * Replaces the contents with `value` (same shape and dtype; any backend), sharing its buffer:
   * no copy is made and `value` stays usable. Throws, naming both shapes, on a mismatch.
   */
  assign(value: Tensor): this {
    this.replaceStorage(`${this.constructor.name}.assign`, value);
    return this;
  }
}

/**
 * A trainable tensor of a {@link Module}. It requires gradients by default, so `backward(loss)`
 * fills `p.grad`, and optimizers update it with `assign`.
 *
 * @example
 * ```ts
 * const w = new Parameter(random.normal(key, [3, 4]));
 * w.requiresGrad; // true
 * ```
 */
export class Parameter extends ModuleTensor {
  constructor(data: Tensor, opts: { requiresGrad?: boolean } = {}) {
    super(data);
    requiresGrad(this, opts.requiresGrad ?? true);
  }
}

/**
 * A non-trainable tensor of a {@link Module} that is part of its state, such as BatchNorm's running
 * mean. Persistent buffers (the default) are saved in the state dict; non-persistent ones (caches
 * such as RoPE's sin/cos tables) are not.
 */
export class Buffer extends ModuleTensor {
  readonly persistent: boolean;

  constructor(data: Tensor, opts: { persistent?: boolean } = {}) {
    super(data);
    this.persistent = opts.persistent ?? true;
  }
}

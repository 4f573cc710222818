/**
 * Activation functions as modules (for `Sequential`), each a thin wrapper of the @ml/tensor op:
 * ReLU, LeakyReLU, GELU, SiLU, Tanh, Sigmoid, Softplus, Softmax, LogSoftmax, Identity; plus `silu`.
 */
import { gelu, leakyRelu, logSoftmax, relu, scope, sigmoid, softmax, softplus, tanh } from '@ml/tensor';
import type { Tensor } from '@ml/tensor';
import { Module } from '../module.js';
import { checkTensor, fail, fmtShape, reprNumber } from './layer-utils.js';

/**
 * SiLU (swish): x·σ(x).
 * @example `silu(h)` in a SwiGLU block
 */
export function silu(x: Tensor): Tensor {
  checkTensor('silu', 'x', x);
  return scope(() => x.mul(sigmoid(x)));
}

/** ReLU: max(x, 0). Shape unchanged. @example `new Sequential(new Linear(4, 8), new ReLU())` */
export class ReLU extends Module {
  forward(x: Tensor): Tensor {
    checkTensor('ReLU.forward', 'input', x);
    return relu(x);
  }
}

/**
 * Leaky ReLU: x for x > 0, negativeSlope·x otherwise (default slope 0.01).
 * @example `new LeakyReLU(0.2)` (GAN discriminators)
 */
export class LeakyReLU extends Module {
  readonly negativeSlope: number;

  constructor(negativeSlope = 0.01) {
    super();
    if (typeof negativeSlope !== 'number' || !Number.isFinite(negativeSlope)) fail('LeakyReLU', `negativeSlope must be a finite number, got ${String(negativeSlope)}`);
    this.negativeSlope = negativeSlope;
  }

  forward(x: Tensor): Tensor {
    checkTensor('LeakyReLU.forward', 'input', x);
    return leakyRelu(x, this.negativeSlope);
  }

  override extraRepr(): string {
    return `negative_slope=${reprNumber(this.negativeSlope)}`;
  }
}

/**
 * GELU: x·Φ(x) with Φ the standard normal CDF (`'none'`, default), or the tanh approximation
 * 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))) (`'tanh'`, as GPT-2).
 * @example `new GELU('tanh')`
 */
export class GELU extends Module {
  readonly approximate: 'none' | 'tanh';

  constructor(approximate: 'none' | 'tanh' = 'none') {
    super();
    if (approximate !== 'none' && approximate !== 'tanh') fail('GELU', `approximate must be 'none' or 'tanh', got ${String(approximate)}`);
    this.approximate = approximate;
  }

  forward(x: Tensor): Tensor {
    checkTensor('GELU.forward', 'input', x);
    return gelu(x, this.approximate);
  }

  override extraRepr(): string {
    return `approximate='${this.approximate}'`;
  }
}

/** SiLU (swish): x·σ(x). @example `new SiLU().forward(h)` */
export class SiLU extends Module {
  forward(x: Tensor): Tensor {
    checkTensor('SiLU.forward', 'input', x);
    return silu(x);
  }
}

/** Hyperbolic tangent. @example `new Tanh().forward(h)` */
export class Tanh extends Module {
  forward(x: Tensor): Tensor {
    checkTensor('Tanh.forward', 'input', x);
    return tanh(x);
  }
}

/** Logistic sigmoid σ(x) = 1/(1 + e⁻ˣ). @example `new Sigmoid().forward(logits)` */
export class Sigmoid extends Module {
  forward(x: Tensor): Tensor {
    checkTensor('Sigmoid.forward', 'input', x);
    return sigmoid(x);
  }
}

/** Softplus log(1 + eˣ), computed stably. @example `new Softplus().forward(h)` */
export class Softplus extends Module {
  forward(x: Tensor): Tensor {
    checkTensor('Softplus.forward', 'input', x);
    return softplus(x);
  }
}

function checkDim(where: string, x: Tensor, dim: number): void {
  if (dim < -x.rank || dim >= x.rank) fail(where, `dim ${dim} is out of range for input ${fmtShape(x.shape)}`);
}

function checkDimArg(where: string, dim: unknown): number {
  if (typeof dim !== 'number' || !Number.isInteger(dim)) fail(where, `dim must be an integer, got ${String(dim)}`);
  return dim;
}

/**
 * Softmax along `dim` (default −1): exp(xᵢ − max) / Σⱼ exp(xⱼ − max).
 * @example `new Softmax(1).forward(logits)` for logits (N, C)
 */
export class Softmax extends Module {
  readonly dim: number;

  constructor(dim = -1) {
    super();
    this.dim = checkDimArg('Softmax', dim);
  }

  forward(x: Tensor): Tensor {
    checkTensor('Softmax.forward', 'input', x);
    checkDim('Softmax.forward', x, this.dim);
    return softmax(x, this.dim);
  }

  override extraRepr(): string {
    return `dim=${this.dim}`;
  }
}

/**
 * Log-softmax along `dim` (default −1): xᵢ − logsumexp(x).
 * @example `new LogSoftmax(1).forward(logits)`
 */
export class LogSoftmax extends Module {
  readonly dim: number;

  constructor(dim = -1) {
    super();
    this.dim = checkDimArg('LogSoftmax', dim);
  }

  forward(x: Tensor): Tensor {
    checkTensor('LogSoftmax.forward', 'input', x);
    checkDim('LogSoftmax.forward', x, this.dim);
    return logSoftmax(x, this.dim);
  }

  override extraRepr(): string {
    return `dim=${this.dim}`;
  }
}

/** The identity: returns a view of its input (a placeholder in `Sequential`). */
export class Identity extends Module {
  forward(x: Tensor): Tensor {
    checkTensor('Identity.forward', 'input', x);
    return x.reshape([...x.shape]);
  }
}

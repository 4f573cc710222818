/** `Flatten` and `Unflatten`: reshape modules for `Sequential` (convolutional features → linear layers). */
import type { Tensor } from '@ml/tensor';
import { Module } from '../module.js';
import { checkInt, checkTensor, fail, fmtShape } from './layer-utils.js';

function normDim(where: string, arg: string, dim: number, rank: number, x: Tensor): number {
  if (dim < -rank || dim >= rank) fail(where, `${arg}=${dim} is out of range for input ${fmtShape(x.shape)}`);
  return dim < 0 ? dim + rank : dim;
}

/**
 * Merges dims `startDim`..`endDim` into one (PyTorch's `nn.Flatten`, default startDim 1, endDim −1:
 * everything but the batch dim).
 *
 * Shape: (N, C, H, W) → (N, C·H·W) with the defaults.
 *
 * @example
 * ```ts
 * new Sequential(new Conv2d(1, 8, 3), new ReLU(), new Flatten(), new Linear(8 * 26 * 26, 10));
 * ```
 */
export class Flatten extends Module {
  readonly startDim: number;
  readonly endDim: number;

  constructor(startDim = 1, endDim = -1) {
    super();
    for (const [arg, v] of [['startDim', startDim], ['endDim', endDim]] as const) {
      if (!Number.isInteger(v)) fail('Flatten', `${arg} must be an integer, got ${String(v)}`);
    }
    this.startDim = startDim;
    this.endDim = endDim;
  }

  forward(x: Tensor): Tensor {
    const where = 'Flatten.forward';
    checkTensor(where, 'input', x);
    const rank = Math.max(x.rank, 1);
    const s = normDim(where, 'startDim', this.startDim, rank, x);
    const e = normDim(where, 'endDim', this.endDim, rank, x);
    if (s > e) fail(where, `startDim=${this.startDim} comes after endDim=${this.endDim} for input ${fmtShape(x.shape)}`);
    return x.flatten(s, e);
  }

  override extraRepr(): string {
    return `start_dim=${this.startDim}, end_dim=${this.endDim}`;
  }
}

/**
 * Splits dim `dim` into `sizes` (PyTorch's `nn.Unflatten`), the inverse of {@link Flatten}.
 *
 * Shape: (N, C·H·W) → (N, C, H, W) with `new Unflatten(1, [C, H, W])`.
 *
 * @example
 * ```ts
 * new Unflatten(1, [16, 7, 7]).forward(h); // (B, 784) → (B, 16, 7, 7)
 * ```
 */
export class Unflatten extends Module {
  readonly dim: number;
  readonly sizes: readonly number[];

  constructor(dim: number, sizes: readonly number[]) {
    super();
    if (!Number.isInteger(dim)) fail('Unflatten', `dim must be an integer, got ${String(dim)}`);
    if (!Array.isArray(sizes) || sizes.length === 0) fail('Unflatten', `sizes must be a non-empty array, got ${JSON.stringify(sizes)}`);
    this.dim = dim;
    this.sizes = sizes.map((d) => checkInt('Unflatten', 'sizes', d));
  }

  forward(x: Tensor): Tensor {
    const where = 'Unflatten.forward';
    checkTensor(where, 'input', x);
    const d = normDim(where, 'dim', this.dim, x.rank, x);
    const product = this.sizes.reduce((a, b) => a * b, 1);
    if (x.shape[d] !== product) fail(where, `dim ${this.dim} of input ${fmtShape(x.shape)} has size ${x.shape[d]}, but sizes ${fmtShape(this.sizes)} multiply to ${product}`);
    return x.reshape([...x.shape.slice(0, d), ...this.sizes, ...x.shape.slice(d + 1)]);
  }

  override extraRepr(): string {
    return `dim=${this.dim}, unflattened_size=${fmtShape(this.sizes)}`;
  }
}

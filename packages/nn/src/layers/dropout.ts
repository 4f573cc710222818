/** `Dropout`: zeroes random elements while training, and its functional form `dropout`. */
import { random, scope, where } from '@ml/tensor';
import type { Key, Tensor } from '@ml/tensor';
import { Module } from '../module.js';
import { KeyStream } from '../rng.js';
import { checkTensor, fail, reprNumber } from './layer-utils.js';

function checkP(where: string, p: unknown): number {
  if (typeof p !== 'number' || !(p >= 0 && p <= 1)) fail(where, `p (the drop probability) must be in [0, 1], got ${String(p)}`);
  return p;
}

/**
 * Inverted dropout: each element is zeroed with probability `p` and the kept ones are scaled by
 * 1/(1 − p), so E[out] = x. Identity when `training` is false or `p` is 0; all zeros when p = 1.
 *
 * Args:
 * - `x`: input of any shape (float).
 * - `p`: drop probability in [0, 1].
 * - `key`: the random key of the mask (the same key gives the same mask).
 * - `training`: apply dropout (default true).
 *
 * Shape: unchanged.
 *
 * @example
 * ```ts
 * const h = dropout(x, 0.1, random.key(0)); // ≈ 10% zeros, the rest × 1/0.9
 * ```
 */
export function dropout(x: Tensor, p: number, key: Key, training = true): Tensor {
  return apply('dropout', x, checkP('dropout', p), () => key, training);
}

function apply(op: string, x: Tensor, p: number, key: () => Key, training: boolean): Tensor {
  checkTensor(op, 'input', x);
  if (x.dtype !== 'float32' && x.dtype !== 'float64') fail(op, `input must be float32 or float64, got ${x.dtype}`);
  if (!training || p === 0) return x.reshape([...x.shape]); // a new view of x, differentiable as x
  if (p === 1) return x.mul(0);
  const k = key();
  return scope(() => {
    // u < 1 − p with u ~ U[0, 1) keeps an element with probability 1 − p
    const keepMask = random.uniform(k, x.shape, { backend: x.backend }).lt(1 - p);
    return where(keepMask, x.mul(1 / (1 - p)), 0);
  });
}

/** Options of {@link Dropout}. */
export interface DropoutOptions {
  /** Start of the layer's key stream (default: a key from the default stream, see `manualSeed`). */
  key?: Key;
}

/**
 * Dropout (PyTorch's `nn.Dropout`): in training mode zeroes each element with probability `p`
 * (the DROP probability) and scales the rest by 1/(1 − p); in eval mode it is the identity. Every
 * call draws a new mask from the layer's own key stream, so a layer built with the same `key`
 * replays the same sequence of masks.
 *
 * Shape: unchanged.
 *
 * @example
 * ```ts
 * const drop = new Dropout(0.1);
 * drop.forward(h);        // training: random zeros
 * drop.eval().forward(h); // identity
 * ```
 */
export class Dropout extends Module {
  readonly p: number;
  readonly #keys: KeyStream;

  constructor(p = 0.5, opts: DropoutOptions = {}) {
    super();
    this.p = checkP('Dropout', p);
    this.#keys = new KeyStream(opts.key);
  }

  forward(x: Tensor): Tensor {
    return apply('Dropout.forward', x, this.p, () => this.#keys.next(), this.training);
  }

  override extraRepr(): string {
    return `p=${reprNumber(this.p)}`;
  }
}

/** `Linear`: the fully connected layer y = x·Wᵀ + b, and its functional form `linear`. */
import { random, scope } from '@ml/tensor';
import type { Key, Tensor } from '@ml/tensor';
import { Module } from '../module.js';
import { Parameter } from '../parameter.js';
import { nextKey } from '../rng.js';
import { checkDtype, checkInt, checkTensor, fail, fmtShape, reprBool } from './layer-utils.js';
import type { FloatDType } from './layer-utils.js';

/**
 * The affine map y = x·Wᵀ + b over the last dim (PyTorch's `F.linear`).
 *
 * Args:
 * - `x`: input (…, in).
 * - `weight`: (out, in).
 * - `bias`: optional (out).
 *
 * Shape: (…, in) → (…, out); a 1-D input (in) gives (out).
 *
 * @example
 * ```ts
 * const y = linear(x, w, b); // (32, 784) with w (256, 784), b (256) → (32, 256)
 * ```
 */
export function linear(x: Tensor, weight: Tensor, bias?: Tensor | null): Tensor {
  const where = 'linear';
  checkTensor(where, 'x', x);
  checkTensor(where, 'weight', weight);
  if (weight.rank !== 2) fail(where, `weight must be (out, in), got ${fmtShape(weight.shape)}`);
  const [out, inF] = weight.shape;
  if (x.rank === 0 || x.shape[x.rank - 1] !== inF) fail(where, `expected input (…, ${inF}) for weight ${fmtShape(weight.shape)}, got ${fmtShape(x.shape)}`);
  if (bias != null) {
    checkTensor(where, 'bias', bias);
    if (bias.rank !== 1 || bias.shape[0] !== out) fail(where, `bias must be (${out},) for weight ${fmtShape(weight.shape)}, got ${fmtShape(bias.shape)}`);
  }
  return scope(() => {
    const lead = x.shape.slice(0, -1);
    // fold the leading dims into one so the matmul is a single (M, in) @ (in, out)
    const rows = lead.reduce((a, b) => a * b, 1);
    const x2 = x.rank === 2 ? x : x.reshape([rows, inF]); // (M, in)
    let y = x2.matmul(weight.transpose()); // (M, out)
    if (bias != null) y = y.add(bias);
    return x.rank === 2 ? y : y.reshape([...lead, out]); // (…, out)
  });
}

/** Options of {@link Linear}. */
export interface LinearOptions {
  /** Whether to learn an additive bias (default true). */
  bias?: boolean;
  /** Key for the random initialisation (default: the next key of the default stream, see `manualSeed`). */
  key?: Key;
  /** Parameter dtype (default float32; float64 for gradient checks). */
  dtype?: FloatDType;
}

/**
 * A fully connected layer: y = x·Wᵀ + b (PyTorch's `nn.Linear`).
 *
 * Parameters: `weight` (out, in) and `bias` (out) (or null with `bias: false`), both initialised
 * as PyTorch does, from U(−1/√in, 1/√in).
 *
 * Shape: (…, in) → (…, out).
 *
 * @example
 * ```ts
 * const fc = new Linear(784, 256);
 * const h = fc.forward(x); // (32, 784) → (32, 256)
 * fc.toString();           // 'Linear(in_features=784, out_features=256, bias=true)'
 * ```
 */
export class Linear extends Module {
  readonly inFeatures: number;
  readonly outFeatures: number;
  weight: Parameter;
  bias: Parameter | null;

  constructor(inFeatures: number, outFeatures: number, opts: LinearOptions = {}) {
    super();
    this.inFeatures = checkInt('Linear', 'inFeatures', inFeatures);
    this.outFeatures = checkInt('Linear', 'outFeatures', outFeatures);
    const dtype = checkDtype('Linear', opts.dtype ?? 'float32');
    const [kw, kb] = random.split(opts.key ?? nextKey(), 2);
    const bound = 1 / Math.sqrt(inFeatures);
    const u = { minval: -bound, maxval: bound, dtype };
    this.weight = new Parameter(random.uniform(kw, [outFeatures, inFeatures], u));
    this.bias = (opts.bias ?? true) ? new Parameter(random.uniform(kb, [outFeatures], u)) : null;
  }

  forward(x: Tensor): Tensor {
    checkTensor('Linear.forward', 'input', x);
    if (x.rank === 0 || x.shape[x.rank - 1] !== this.inFeatures) {
      fail('Linear.forward', `expected input (…, ${this.inFeatures}), got ${fmtShape(x.shape)}`);
    }
    return linear(x, this.weight, this.bias);
  }

  override extraRepr(): string {
    return `in_features=${this.inFeatures}, out_features=${this.outFeatures}, bias=${reprBool(this.bias !== null)}`;
  }
}

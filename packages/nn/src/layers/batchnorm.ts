/**
 * Normalisation with batch statistics: `BatchNorm1d`, `BatchNorm2d` (per channel over the batch
 * and spatial dims, with running statistics for evaluation) and `InstanceNorm2d` (per sample and
 * channel over the spatial dims).
 */
import { noGrad } from '@ml/autograd';
import { ones, scope, zeros } from '@ml/tensor';
import type { Tensor } from '@ml/tensor';
import { Module } from '../module.js';
import { Buffer, Parameter } from '../parameter.js';
import { checkDtype, checkFloat, checkInt, checkPositive, checkTensor, fail, fmtShape, reprBool, reprNumber } from './layer-utils.js';
import type { FloatDType } from './layer-utils.js';

/** Options of the batch and instance normalisation layers. */
export interface BatchNormOptions {
  /** Added to the variance (default 1e-5). */
  eps?: number;
  /**
   * Weight of the new batch in the running averages: running ← (1 − momentum)·running +
   * momentum·batch (default 0.1). `null` gives the cumulative average over all batches seen.
   */
  momentum?: number | null;
  /** Learn a per-channel scale γ and shift β (default true; false for InstanceNorm2d). */
  affine?: boolean;
  /** Keep running mean and variance for evaluation (default true; false for InstanceNorm2d). */
  trackRunningStats?: boolean;
  /** Parameter and buffer dtype (default float32). */
  dtype?: FloatDType;
}

/** What the base class needs to know about one layer kind. */
interface Kind {
  name: string;
  /** Fails unless the input has an accepted shape. */
  check(x: Tensor, c: number): void;
  /** The dims the statistics are taken over (channel dim excluded). */
  axes(x: Tensor): number[];
}

/**
 * The machinery shared by batch and instance norm: parameters, buffers, the running-average
 * update and the normalisation y = γ·(x − μ)/√(σ² + eps) + β with biased σ².
 */
abstract class NormBase extends Module {
  readonly numFeatures: number;
  readonly eps: number;
  readonly momentum: number | null;
  readonly affine: boolean;
  readonly trackRunningStats: boolean;
  weight: Parameter | null;
  bias: Parameter | null;
  runningMean: Buffer | null;
  runningVar: Buffer | null;
  numBatchesTracked: Buffer | null;
  protected abstract readonly kind: Kind;

  constructor(name: string, numFeatures: number, opts: BatchNormOptions, defaults: { affine: boolean; trackRunningStats: boolean }) {
    super();
    this.numFeatures = checkInt(name, 'numFeatures', numFeatures);
    this.eps = checkPositive(name, 'eps', opts.eps ?? 1e-5);
    const momentum = opts.momentum === undefined ? 0.1 : opts.momentum;
    if (momentum !== null && (typeof momentum !== 'number' || !(momentum >= 0 && momentum <= 1))) fail(name, `momentum must be in [0, 1] or null, got ${String(momentum)}`);
    this.momentum = momentum;
    this.affine = opts.affine ?? defaults.affine;
    this.trackRunningStats = opts.trackRunningStats ?? defaults.trackRunningStats;
    const dtype = checkDtype(name, opts.dtype ?? 'float32');
    this.weight = this.affine ? new Parameter(ones([numFeatures], { dtype })) : null;
    this.bias = this.affine ? new Parameter(zeros([numFeatures], { dtype })) : null;
    this.runningMean = this.trackRunningStats ? new Buffer(zeros([numFeatures], { dtype })) : null;
    this.runningVar = this.trackRunningStats ? new Buffer(ones([numFeatures], { dtype })) : null;
    this.numBatchesTracked = this.trackRunningStats ? new Buffer(zeros([], { dtype: 'int32' })) : null;
  }

  /** (C,) → a shape that broadcasts against x along its channel dim 1. */
  protected channelShape(x: Tensor): number[] {
    return x.shape.map((d, i) => (i === 1 ? d : 1));
  }

  /**
   * running ← (1 − f)·running + f·batch for the mean and the unbiased variance, with f = momentum,
   * or f = 1/numBatchesTracked (cumulative average) when momentum is null. Not differentiated.
   */
  protected updateRunningStats(batchMean: Tensor, batchVar: Tensor, count: number): void {
    const rm = this.runningMean!;
    const rv = this.runningVar!;
    const nbt = this.numBatchesTracked!;
    noGrad(() =>
      scope(() => {
        const tracked = nbt.add(1);
        const f: Tensor | number = this.momentum ?? tracked.cast(rm.dtype).reciprocal();
        const unbiased = batchVar.mul(count / (count - 1));
        const mean = rm.add(batchMean.cast(rm.dtype).sub(rm).mul(f));
        const variance = rv.add(unbiased.cast(rv.dtype).sub(rv).mul(f));
        rm.assign(mean);
        rv.assign(variance);
        nbt.assign(tracked);
      }),
    );
  }

  forward(x: Tensor): Tensor {
    const where = `${this.kind.name}.forward`;
    checkTensor(where, 'input', x);
    checkFloat(where, 'input', x);
    this.kind.check(x, this.numFeatures);
    return this.normalize(where, x);
  }

  protected abstract normalize(where: string, x: Tensor): Tensor;

  /** y = γ·x̂ + β, γ and β per channel. */
  protected affineMap(x: Tensor, xhat: Tensor): Tensor {
    if (!this.weight || !this.bias) return xhat;
    const shape = this.channelShape(x);
    return xhat.mul(this.weight.reshape(shape)).add(this.bias.reshape(shape));
  }

  override extraRepr(): string {
    const m = this.momentum === null ? 'None' : reprNumber(this.momentum);
    return `${this.numFeatures}, eps=${reprNumber(this.eps)}, momentum=${m}, affine=${reprBool(this.affine)}, track_running_stats=${reprBool(this.trackRunningStats)}`;
  }
}

/** Batch norm: statistics per channel over the batch and spatial dims. */
abstract class BatchNormBase extends NormBase {
  constructor(name: string, numFeatures: number, opts: BatchNormOptions) {
    super(name, numFeatures, opts, { affine: true, trackRunningStats: true });
  }

  protected normalize(where: string, x: Tensor): Tensor {
    const axes = this.kind.axes(x);
    const shape = this.channelShape(x);
    const useBatchStats = this.training || !this.trackRunningStats;
    return scope(() => {
      let mean: Tensor;
      let variance: Tensor;
      if (useBatchStats) {
        const count = x.size / this.numFeatures;
        if (this.training && count <= 1) fail(where, `expected more than 1 value per channel when training, got input size ${fmtShape(x.shape)}`);
        mean = x.mean(axes, true); // (1, C, 1, …)
        variance = x.sub(mean).square().mean(axes, true); // biased, for normalising
        if (this.training && this.trackRunningStats) this.updateRunningStats(mean.reshape([this.numFeatures]), variance.reshape([this.numFeatures]), count);
      } else {
        mean = this.runningMean!.reshape(shape);
        variance = this.runningVar!.reshape(shape);
      }
      const xhat = x.sub(mean).mul(variance.add(this.eps).rsqrt());
      return this.affineMap(x, xhat);
    });
  }
}

const allButChannel = (x: Tensor): number[] => x.shape.map((_, i) => i).filter((i) => i !== 1);

/**
 * Batch normalisation over (N, C) or (N, C, L) inputs (PyTorch's `nn.BatchNorm1d`):
 *
 * y = γ·(x − μ)/√(σ² + eps) + β, per channel c.
 *
 * In training μ and σ² are the batch mean and biased variance over N (and L), and the running
 * averages are updated with the batch mean and UNBIASED variance (PyTorch's convention):
 * running ← (1 − momentum)·running + momentum·batch. In eval mode the running statistics are used
 * (unless `trackRunningStats` is false, in which case batch statistics are always used).
 *
 * Parameters `weight` γ (ones), `bias` β (zeros); buffers `runningMean` (zeros), `runningVar`
 * (ones), `numBatchesTracked` (int32 scalar), saved as running_mean, running_var,
 * num_batches_tracked with PyTorch naming.
 *
 * @example
 * ```ts
 * const bn = new BatchNorm1d(256);
 * bn.forward(h);         // (B, 256), batch statistics; updates the running averages
 * bn.eval().forward(h);  // running statistics
 * ```
 */
export class BatchNorm1d extends BatchNormBase {
  protected readonly kind: Kind = {
    name: 'BatchNorm1d',
    check: (x, c) => {
      if ((x.rank !== 2 && x.rank !== 3) || x.shape[1] !== c) fail('BatchNorm1d.forward', `expected input (N, ${c}) or (N, ${c}, L), got ${fmtShape(x.shape)}`);
    },
    axes: allButChannel,
  };

  constructor(numFeatures: number, opts: BatchNormOptions = {}) {
    super('BatchNorm1d', numFeatures, opts);
  }
}

/**
 * Batch normalisation over (N, C, H, W) inputs (PyTorch's `nn.BatchNorm2d`): per channel, with
 * statistics over N, H and W; see {@link BatchNorm1d} for training/eval behaviour and the running
 * averages.
 *
 * @example
 * ```ts
 * const bn = new BatchNorm2d(64);
 * bn.forward(x); // (8, 64, 32, 32)
 * ```
 */
export class BatchNorm2d extends BatchNormBase {
  protected readonly kind: Kind = {
    name: 'BatchNorm2d',
    check: (x, c) => {
      if (x.rank !== 4 || x.shape[1] !== c) fail('BatchNorm2d.forward', `expected input (N, ${c}, H, W), got ${fmtShape(x.shape)}`);
    },
    axes: allButChannel,
  };

  constructor(numFeatures: number, opts: BatchNormOptions = {}) {
    super('BatchNorm2d', numFeatures, opts);
  }
}

/**
 * Instance normalisation (PyTorch's `nn.InstanceNorm2d`): each (sample, channel) plane is
 * normalised by its own mean and biased variance over H and W, y = γ·(x − μ)/√(σ² + eps) + β.
 * By default there are no parameters (`affine: false`) and no running statistics
 * (`trackRunningStats: false`). With running statistics, training updates them with the batch
 * average of the per-instance means and unbiased variances (as PyTorch), and eval mode uses them.
 *
 * Shape: (N, C, H, W) or (C, H, W) → same.
 *
 * @example
 * ```ts
 * new InstanceNorm2d(64).forward(x); // style-transfer networks
 * ```
 */
export class InstanceNorm2d extends NormBase {
  protected readonly kind: Kind = {
    name: 'InstanceNorm2d',
    check: (x, c) => {
      if ((x.rank !== 3 && x.rank !== 4) || x.shape[x.rank - 3] !== c) fail('InstanceNorm2d.forward', `expected input (N, ${c}, H, W) or (${c}, H, W), got ${fmtShape(x.shape)}`);
    },
    axes: () => [2, 3],
  };

  constructor(numFeatures: number, opts: BatchNormOptions = {}) {
    super('InstanceNorm2d', numFeatures, opts, { affine: false, trackRunningStats: false });
  }

  protected normalize(where: string, x: Tensor): Tensor {
    if (x.rank === 3) return scope(() => this.normalize(where, x.reshape([1, ...x.shape])).reshape(x.shape));
    const useInstanceStats = this.training || !this.trackRunningStats;
    return scope(() => {
      let mean: Tensor;
      let variance: Tensor;
      if (useInstanceStats) {
        const count = x.shape[2] * x.shape[3];
        if (this.training && count <= 1) fail(where, `expected more than 1 spatial element when training, got input size ${fmtShape(x.shape)}`);
        mean = x.mean([2, 3], true); // (N, C, 1, 1)
        variance = x.sub(mean).square().mean([2, 3], true);
        if (this.training && this.trackRunningStats) {
          this.updateRunningStats(mean.mean([0, 2, 3]), variance.mean([0, 2, 3]), count);
        }
      } else {
        const shape = [1, this.numFeatures, 1, 1];
        mean = this.runningMean!.reshape(shape);
        variance = this.runningVar!.reshape(shape);
      }
      const xhat = x.sub(mean).mul(variance.add(this.eps).rsqrt());
      return this.affineMap(x, xhat);
    });
  }
}

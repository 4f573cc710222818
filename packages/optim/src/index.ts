/**
 * @ml/optim: optimizers for @ml/nn in the PyTorch style (SGD, Adagrad, RMSprop, Adam, AdamW),
 * learning-rate schedules, gradient clipping and dynamic loss scaling. Updates are written in
 * @ml/tensor ops, so they run on every backend.
 *
 * @example
 * ```ts
 * import { AdamW, LinearWarmupCosine, clipGradNorm } from '@ml/optim';
 * const opt = new AdamW(model.parameters(), { lr: 6e-4, weightDecay: 0.1 });
 * const sched = new LinearWarmupCosine(opt, { warmupSteps: 100, totalSteps: 5000, minLr: 6e-5 });
 * for (const batch of batches) {
 *   backward(lossOf(batch));
 *   await clipGradNorm(model.parameters(), 1.0);
 *   opt.step(); opt.zeroGrad(); sched.step();
 * }
 * ```
 * @packageDocumentation
 */
export { Optimizer, withDefaults } from './optimizer.js';
export type { BaseHyperparameters, GroupState, OptimizerStateDict, ParamGroup, ParamGroupInput, ParamsInput, ParamState, Update } from './optimizer.js';
export { SGD } from './sgd.js';
export type { SGDOptions } from './sgd.js';
export { Adagrad } from './adagrad.js';
export type { AdagradOptions } from './adagrad.js';
export { RMSprop } from './rmsprop.js';
export type { RMSpropOptions } from './rmsprop.js';
export { Adam } from './adam.js';
export type { AdamOptions } from './adam.js';
export { AdamW } from './adamw.js';
export { LRScheduler } from './schedulers/scheduler.js';
export type { SchedulerState } from './schedulers/scheduler.js';
export { ExponentialLR, MultiStepLR, StepLR } from './schedulers/step.js';
export { LambdaLR } from './schedulers/lambda.js';
export { CosineAnnealingLR, LinearWarmupCosine } from './schedulers/cosine.js';
export { OneCycleLR } from './schedulers/one-cycle.js';
export type { OneCycleOptions } from './schedulers/one-cycle.js';
export { ReduceLROnPlateau } from './schedulers/plateau.js';
export type { PlateauOptions, PlateauState } from './schedulers/plateau.js';
export { clipGradNorm, clipGradNormTensor, clipGradValue } from './clip.js';
export type { GradParams } from './clip.js';
export { GradScaler } from './grad-scaler.js';
export type { GradScalerOptions, GradScalerState } from './grad-scaler.js';
export { OPTIMIZER_METADATA_KEY, packOptimizerState, unpackOptimizerState } from './checkpoint.js';

/**
 * Loss functions, PyTorch's semantics, written in @ml/tensor ops so they run on every backend
 * and @ml/autograd differentiates them. Every loss takes `{ reduction: 'mean' | 'sum' | 'none' }`
 * (default 'mean') and throws, naming itself, the argument and the shapes, on bad input.
 */
export type { Reduction, ReductionOptions } from './reduction.js';
export { huber, l1, mse, smoothL1 } from './regression.js';
export type { HuberOptions, SmoothL1Options } from './regression.js';
export { crossEntropy, nll } from './cross-entropy.js';
export type { CrossEntropyOptions, NllOptions } from './cross-entropy.js';
export { bce, bceWithLogits, focal } from './binary.js';
export type { BceOptions, BceWithLogitsOptions, FocalOptions } from './binary.js';
export { multiclassHinge } from './hinge.js';
export type { HingeOptions } from './hinge.js';
export { klDiv } from './divergence.js';
export type { KlDivOptions } from './divergence.js';
export { cosineEmbedding, tripletMargin } from './embedding.js';
export type { CosineEmbeddingOptions, TripletOptions } from './embedding.js';
export { infoNCE, ntXent } from './contrastive.js';
export type { InfoNCEOptions } from './contrastive.js';

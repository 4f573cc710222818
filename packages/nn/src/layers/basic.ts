/** The basic layers: linear, embedding, dropout, normalisation, convolution, pooling, activations. */
export { Linear, linear } from './linear.js';
export type { LinearOptions } from './linear.js';
export { Embedding, embedding } from './embedding.js';
export type { EmbeddingOptions } from './embedding.js';
export { Dropout, dropout } from './dropout.js';
export type { DropoutOptions } from './dropout.js';
export { GroupNorm, groupNorm, LayerNorm, layerNorm, RMSNorm, rmsNorm } from './norm.js';
export type { GroupNormOptions, LayerNormOptions, RMSNormOptions } from './norm.js';
export { Conv1d, Conv2d, ConvTranspose1d, ConvTranspose2d, convTranspose2d } from './conv.js';
export type { Conv1dOptions, Conv2dOptions, ConvPadding2d, ConvTranspose1dOptions, ConvTranspose2dArgs, ConvTranspose2dOptions, Size2 } from './conv.js';
export { AdaptiveAvgPool2d, adaptiveAvgPool2d, AvgPool2d, MaxPool2d } from './pooling.js';
export type { AdaptiveSize, AvgPool2dOptions, MaxPool2dOptions } from './pooling.js';
export { GELU, Identity, LeakyReLU, LogSoftmax, ReLU, Sigmoid, SiLU, silu, Softmax, Softplus, Tanh } from './activation.js';
export { Flatten, Unflatten } from './flatten.js';
export { BatchNorm1d, BatchNorm2d, InstanceNorm2d } from './batchnorm.js';
export type { BatchNormOptions } from './batchnorm.js';

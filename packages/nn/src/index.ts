/**
 * @ml/nn: neural networks in the PyTorch style. `Module` finds its parameters from its fields;
 * layers, losses and initialisers are written in @ml/tensor primitives, so they run on every
 * backend and @ml/autograd differentiates them; checkpoints are safetensors files.
 *
 * @example
 * ```ts
 * import { Linear, ReLU, Sequential, crossEntropy } from '@ml/nn';
 * const model = new Sequential(new Linear(784, 256), new ReLU(), new Linear(256, 10));
 * const loss = crossEntropy(model.forward(x), labels); // x (B, 784), labels (B,) int32
 * backward(loss); // fills p.grad for p of model.parameters()
 * ```
 * @packageDocumentation
 */
export { Buffer, ModuleTensor, Parameter } from './parameter.js';
export { Module, toPytorchName } from './module.js';
export type { Naming, StateDictOptions } from './module.js';
export { ModuleList, Sequential } from './containers.js';
export { KeyStream, manualSeed, nextKey } from './rng.js';
export { decodeCheckpoint, DIGEST_KEY, encodeCheckpoint, loadCheckpointBytes } from './checkpoint.js';
export type { DecodedCheckpoint, EncodeOptions } from './checkpoint.js';
// Initialisers: all of them in the `init` namespace (`init.normal`, `init.zeros`, as torch.nn.init);
// the ones whose names cannot be confused with @ml/tensor's creation functions also at top level.
export * as init from './init.js';
export { calculateGain, fanInOut, initParameter, kaimingNormal, kaimingUniform, orthogonal, truncNormal, xavierNormal, xavierUniform } from './init.js';
export type { InitOptions, Initializer, KaimingOptions, Nonlinearity, XavierOptions } from './init.js';
export * from './layers/basic.js';
export * from './layers/sequence.js';
export * from './losses/index.js';

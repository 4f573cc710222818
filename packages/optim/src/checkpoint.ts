/**
 * Optimizer state in a checkpoint file. @ml/nn's `encodeCheckpoint` writes name → tensor maps
 * with string metadata (safetensors); an optimizer's state dict is exactly that: its tensors go
 * in under a prefix (`optimizer.0.exp_avg`), its JSON part (hyperparameters, step counts) in one
 * metadata entry. So one file holds the model and the optimizer:
 *
 * ```ts
 * // save
 * const opt = packOptimizerState(optimizer.stateDict());
 * const bytes = await encodeCheckpoint({ ...model.stateDict(), ...opt.tensors }, { metadata: opt.metadata });
 * // load
 * const { tensors, metadata } = await decodeCheckpoint(bytes);
 * const { optimizer: sd, rest } = unpackOptimizerState(tensors, metadata);
 * model.loadStateDict(rest);
 * optimizer.loadStateDict(sd);
 * ```
 *
 * (Dispose the tensors afterwards: both `loadStateDict`s share their buffers, they do not need
 * the caller's tensors.)
 */
import type { Tensor } from '@ml/tensor';
import type { GroupState, OptimizerStateDict } from './optimizer.js';

/** The metadata key that holds the optimizer's JSON part. */
export const OPTIMIZER_METADATA_KEY = 'ml.optimizer';

/**
 * Splits an optimizer state dict into checkpoint tensors (`prefix` + key) and string metadata.
 * The tensors are the state dict's own (no copies).
 * @param prefix put before every tensor name (default `'optimizer.'`), so names never clash with the model's
 * @example
 * ```ts
 * const { tensors, metadata } = packOptimizerState(opt.stateDict()); // { 'optimizer.0.exp_avg': …, … }, { 'ml.optimizer': '{"prefix":…}' }
 * const bytes = await encodeCheckpoint({ ...model.stateDict(), ...tensors }, { metadata });
 * ```
 */
export function packOptimizerState(sd: OptimizerStateDict, prefix = 'optimizer.'): { tensors: Record<string, Tensor>; metadata: Record<string, string> } {
  if (!sd || typeof sd.state !== 'object' || !Array.isArray(sd.groups) || !Array.isArray(sd.steps)) {
    throw new Error('packOptimizerState: expected { state, groups, steps } as returned by optimizer.stateDict()');
  }
  if (prefix === '') throw new Error("packOptimizerState: prefix must not be empty (it tells the optimizer's tensors from the model's)");
  const tensors: Record<string, Tensor> = {};
  for (const [k, t] of Object.entries(sd.state)) tensors[prefix + k] = t;
  return { tensors, metadata: { [OPTIMIZER_METADATA_KEY]: JSON.stringify({ prefix, groups: sd.groups, steps: sd.steps }) } };
}

/**
 * Undoes {@link packOptimizerState} on decoded checkpoint tensors: returns the optimizer's state
 * dict (names without the prefix) and the other tensors (`rest`: the model's).
 * @example
 * ```ts
 * const { tensors, metadata } = await decodeCheckpoint(bytes);
 * const { optimizer, rest } = unpackOptimizerState(tensors, metadata);
 * model.loadStateDict(rest);
 * opt.loadStateDict(optimizer);
 * ```
 */
export function unpackOptimizerState(
  tensors: Record<string, Tensor>,
  metadata: Record<string, string>,
): { optimizer: OptimizerStateDict; rest: Record<string, Tensor> } {
  const owner = 'unpackOptimizerState';
  const json = metadata?.[OPTIMIZER_METADATA_KEY];
  if (json === undefined) throw new Error(`${owner}: the checkpoint has no '${OPTIMIZER_METADATA_KEY}' metadata: it holds no optimizer state`);
  let parsed: { prefix?: unknown; groups?: unknown; steps?: unknown };
  try {
    parsed = JSON.parse(json);
  } catch (e) {
    throw new Error(`${owner}: the '${OPTIMIZER_METADATA_KEY}' metadata is not valid JSON: ${(e as Error).message}`);
  }
  const { prefix, groups, steps } = parsed;
  if (typeof prefix !== 'string' || prefix === '' || !Array.isArray(groups) || !Array.isArray(steps)) {
    throw new Error(`${owner}: the '${OPTIMIZER_METADATA_KEY}' metadata must hold { prefix, groups, steps }`);
  }
  const state: Record<string, Tensor> = {};
  const rest: Record<string, Tensor> = {};
  for (const [name, t] of Object.entries(tensors)) {
    if (name.startsWith(prefix)) state[name.slice(prefix.length)] = t;
    else rest[name] = t;
  }
  return { optimizer: { state, groups: groups as GroupState[], steps: steps as number[] }, rest };
}

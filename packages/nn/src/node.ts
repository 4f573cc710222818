/**
 * @ml/nn/node: checkpoint files in Node. Writes are atomic: the bytes go to a temporary file in
 * the same folder, are flushed to disk, and only then renamed over the target, so a crash leaves
 * either the old checkpoint or the new one, never half of one.
 * @packageDocumentation
 */
import { randomBytes } from 'node:crypto';
import { open, readFile, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { Tensor } from '@ml/tensor';
import { decodeCheckpoint, encodeCheckpoint, loadCheckpointBytes } from './checkpoint.js';
import type { DecodedCheckpoint, EncodeOptions } from './checkpoint.js';
import type { Module, Naming } from './module.js';

/** Writes `bytes` to `path` atomically (temporary file, fsync, rename). */
export async function writeFileAtomic(path: string, bytes: Uint8Array): Promise<void> {
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
  const fh = await open(tmp, 'wx');
  try {
    await fh.writeFile(bytes);
    await fh.sync();
  } catch (e) {
    await fh.close().catch(() => {});
    await rm(tmp, { force: true });
    throw e;
  }
  await fh.close();
  try {
    await rename(tmp, path);
  } catch (e) {
    await rm(tmp, { force: true });
    throw e;
  }
  const dir = await open(dirname(path), 'r').catch(() => null); // make the rename durable where the OS allows
  if (dir) await dir.sync().catch(() => {}).finally(() => dir.close());
}

/**
 * Saves a module's state dict (or a name → tensor map) to a safetensors file, atomically.
 * @example
 * ```ts
 * await saveCheckpoint(model, 'mnist-mlp.safetensors');
 * ```
 */
export async function saveCheckpoint(source: Module | Record<string, Tensor>, path: string, opts: EncodeOptions = {}): Promise<void> {
  await writeFileAtomic(path, await encodeCheckpoint(source, opts));
}

/** Reads a checkpoint file into tensors (validated, digest checked). */
export async function readCheckpoint(path: string): Promise<DecodedCheckpoint> {
  return decodeCheckpoint(new Uint8Array(await readFile(path)));
}

/**
 * Loads a checkpoint file into `module`. A corrupt file, a missing or unexpected key, or a wrong
 * shape throws and leaves the module untouched.
 * @returns the file's metadata
 */
export async function loadCheckpoint(module: Module, path: string, opts: { strict?: boolean; naming?: Naming } = {}): Promise<Record<string, string>> {
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(await readFile(path));
  } catch (e) {
    throw new Error(`loadCheckpoint: cannot read ${path}: ${(e as Error).message}`);
  }
  try {
    return await loadCheckpointBytes(module, bytes, opts);
  } catch (e) {
    throw new Error(`loadCheckpoint(${path}): ${(e as Error).message}`);
  }
}

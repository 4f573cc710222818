/**
 * Checkpoints: a state dict as a safetensors file, readable by `safetensors.torch.load_file`
 * (names are the dotted field paths, or PyTorch's snake_case with `naming: 'pytorch'`). We add a
 * SHA-256 of the contents to the metadata (`ml.sha256`) and verify it on load, so a corrupt file
 * fails loudly instead of loading wrong numbers. Files written elsewhere (no digest) still load,
 * with every structural check that safetensors allows.
 */
import { decodeSafetensors, encodeSafetensors, fromArray, getBackend } from '@ml/tensor';
import type { ArrayData, Backend, Tensor } from '@ml/tensor';
import { Module } from './module.js';
import type { Naming } from './module.js';

/** The metadata key that holds the digest. */
export const DIGEST_KEY = 'ml.sha256';

const text = new TextEncoder();

function bytesOf(a: ArrayData): Uint8Array {
  return new Uint8Array(a.data.buffer, a.data.byteOffset, a.data.byteLength);
}

/** SHA-256 over every tensor's name, dtype, shape and bytes, in name order (hex). */
async function digest(tensors: Record<string, ArrayData>): Promise<string> {
  const names = Object.keys(tensors).sort();
  const parts = await Promise.all(
    names.map(async (name) => {
      const a = tensors[name];
      const head = new Uint8Array(await crypto.subtle.digest('SHA-256', text.encode(`${name}\0${a.dtype}\0${a.shape.join(',')}\0`)));
      const body = new Uint8Array(await crypto.subtle.digest('SHA-256', bytesOf(a) as Uint8Array<ArrayBuffer>));
      return [head, body];
    }),
  );
  const all = new Uint8Array(parts.length * 64);
  parts.forEach(([h, b], i) => {
    all.set(h, i * 64);
    all.set(b, i * 64 + 32);
  });
  const d = new Uint8Array(await crypto.subtle.digest('SHA-256', all));
  return Array.from(d, (x) => x.toString(16).padStart(2, '0')).join('');
}

/** Options of {@link encodeCheckpoint}. */
export interface EncodeOptions {
  /** Key spelling for a module's state (default `'ml'`). */
  naming?: Naming;
  /** Extra string metadata stored in the file. */
  metadata?: Record<string, string>;
}

/**
 * Encodes a module's state dict (or any name → tensor map) as safetensors bytes with a digest.
 * @example
 * ```ts
 * const bytes = await encodeCheckpoint(model);
 * ```
 */
export async function encodeCheckpoint(source: Module | Record<string, Tensor>, opts: EncodeOptions = {}): Promise<Uint8Array> {
  const owned = source instanceof Module;
  const state = owned ? source.stateDict({ naming: opts.naming }) : source;
  try {
    const arrays: Record<string, ArrayData> = {};
    for (const [name, t] of Object.entries(state)) {
      if (!(t as { __isTensor?: unknown } | null)?.__isTensor) throw new Error(`encodeCheckpoint: value for '${name}' is not a Tensor`);
      arrays[name] = { dtype: t.dtype, shape: t.shape, data: await t.data() };
    }
    const metadata = { format: 'pt', ...opts.metadata, [DIGEST_KEY]: await digest(arrays) };
    return encodeSafetensors(arrays, metadata);
  } finally {
    if (owned) for (const t of Object.values(state)) t.dispose();
  }
}

/** What {@link decodeCheckpoint} returns. */
export interface DecodedCheckpoint {
  tensors: Record<string, Tensor>;
  metadata: Record<string, string>;
}

/**
 * Decodes checkpoint bytes into tensors on `backend`, after validating the file and (when it has
 * one) its digest. Nothing is created unless the whole file checks out.
 */
export async function decodeCheckpoint(bytes: Uint8Array, opts: { backend?: Backend } = {}): Promise<DecodedCheckpoint> {
  let decoded;
  try {
    decoded = decodeSafetensors(bytes);
  } catch (e) {
    throw new Error(`decodeCheckpoint: not a valid checkpoint: ${(e as Error).message}`);
  }
  const { tensors, metadata } = decoded;
  const expected = metadata[DIGEST_KEY];
  if (expected !== undefined && (await digest(tensors)) !== expected) {
    throw new Error('decodeCheckpoint: the contents do not match the checksum stored in the file: it is corrupt');
  }
  const backend = opts.backend ?? getBackend();
  const out: Record<string, Tensor> = {};
  try {
    for (const [name, a] of Object.entries(tensors)) out[name] = fromArray('decodeCheckpoint', a.data, a.shape, a.dtype, backend);
  } catch (e) {
    for (const t of Object.values(out)) t.dispose();
    throw e;
  }
  return { tensors: out, metadata };
}

/**
 * Loads checkpoint bytes into `module` (on the backend of its first parameter or buffer). The
 * module is changed only if the file is valid and matches its architecture exactly (see
 * `Module.loadStateDict`).
 * @returns the file's metadata
 */
export async function loadCheckpointBytes(
  module: Module,
  bytes: Uint8Array,
  opts: { strict?: boolean; naming?: Naming } = {},
): Promise<Record<string, string>> {
  const first = module.parameters()[0] ?? module.buffers()[0];
  const { tensors, metadata } = await decodeCheckpoint(bytes, { backend: first?.backend });
  try {
    module.loadStateDict(tensors, opts);
  } finally {
    for (const t of Object.values(tensors)) t.dispose();
  }
  return metadata;
}

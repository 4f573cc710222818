/**
 * The safetensors format: an 8-byte little-endian u64 header length N, N bytes of UTF-8 JSON
 * mapping each tensor name to `{ dtype, shape, data_offsets: [begin, end] }` (plus an optional
 * `__metadata__` string→string map), then the data buffer that the offsets index. The offsets
 * must cover the buffer exactly, without gaps or overlaps.
 */
import type { DType } from '../dtype.js';
import { itemSize } from '../dtype.js';
import { fromArray } from '../engine.js';
import { fail } from '../errors.js';
import type { Tensor } from '../tensor.js';
import type { ArrayData, ElementFormat, LoadOptions } from './common.js';
import { checkArrayData, checkDims, decodeElements, encodeElements, targetDType } from './common.js';

/** The largest header accepted, as in the reference implementation. */
export const MAX_HEADER_BYTES = 100_000_000;

const WRITE_DTYPE: Record<DType, string> = { float32: 'F32', float64: 'F64', int32: 'I32', uint8: 'U8', bool: 'BOOL' };
const READ_FORMAT: Record<string, Omit<ElementFormat, 'name' | 'little'>> = {
  F64: { kind: 'f', size: 8 }, F32: { kind: 'f', size: 4 }, F16: { kind: 'f', size: 2 }, BF16: { kind: 'bf', size: 2 },
  I64: { kind: 'i', size: 8 }, I32: { kind: 'i', size: 4 }, I16: { kind: 'i', size: 2 }, I8: { kind: 'i', size: 1 },
  U64: { kind: 'u', size: 8 }, U32: { kind: 'u', size: 4 }, U16: { kind: 'u', size: 2 }, U8: { kind: 'u', size: 1 },
  BOOL: { kind: 'b', size: 1 },
};
const UNSUPPORTED = ['F8_E5M2', 'F8_E4M3', 'F8_E8M0', 'F6_E2M3', 'F6_E3M2', 'F4', 'E8M0', 'C64'];

/** What {@link decodeSafetensors} returns. */
export interface SafetensorsData {
  readonly tensors: Record<string, ArrayData>;
  /** The `__metadata__` map; empty when the file has none. */
  readonly metadata: Record<string, string>;
}

/**
 * Encodes named arrays as a safetensors file. Data is laid out like the reference writer does:
 * larger element sizes first, then by name, so every tensor's data starts aligned to its element
 * size. The JSON header is padded with spaces to a multiple of 8 bytes.
 *
 * @param tensors - name → `{ dtype, shape, data }` (row-major typed array of the dtype).
 * @param metadata - optional string → string map stored as `__metadata__`.
 * @returns the file's bytes.
 * @example
 * const bytes = encodeSafetensors({ w: { dtype: 'float32', shape: [2], data: new Float32Array([1, 2]) } }, { format: 'pt' });
 */
export function encodeSafetensors(tensors: Record<string, ArrayData>, metadata?: Record<string, string>): Uint8Array {
  const header: Record<string, unknown> = Object.create(null); // so a tensor may be named __proto__
  if (metadata !== undefined) {
    checkMetadata(metadata);
    if (Object.keys(metadata).length > 0) header.__metadata__ = metadata;
  }
  const names = Object.keys(tensors).sort(
    (a, b) => itemSize(tensors[b].dtype) - itemSize(tensors[a].dtype) || (a < b ? -1 : a > b ? 1 : 0),
  );
  const bodies: Uint8Array[] = [];
  let offset = 0;
  for (const name of names) {
    if (name === '__metadata__') fail('safetensors', "a tensor cannot be named '__metadata__'");
    const t = tensors[name];
    checkArrayData('safetensors', t, `tensor '${name}'`);
    const body = encodeElements(t.dtype, t.data);
    header[name] = { dtype: WRITE_DTYPE[t.dtype], shape: [...t.shape], data_offsets: [offset, offset + body.length] };
    bodies.push(body);
    offset += body.length;
  }
  let json = new TextEncoder().encode(JSON.stringify(header));
  const padded = Math.ceil(json.length / 8) * 8;
  if (padded !== json.length) {
    const p = new Uint8Array(padded).fill(0x20);
    p.set(json);
    json = p;
  }
  const out = new Uint8Array(8 + json.length + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  let at = 8 + json.length;
  for (const b of bodies) (out.set(b, at), (at += b.length));
  return out;
}

/**
 * Decodes a safetensors file, validating the header and the data layout.
 *
 * F32/F64/I32/U8/BOOL load as such; F16 and BF16 load as float32 (exactly); I8/I16/U16 widen to
 * int32; I64/U64/U32 load as int32 when every value fits (otherwise an error names the value).
 *
 * @param bytes - the whole file.
 * @throws TensorError (`safetensors: ...`) naming the first problem found.
 * @example
 * const { tensors, metadata } = decodeSafetensors(bytes);
 * tensors.w.shape; // [2]
 */
export function decodeSafetensors(bytes: Uint8Array): SafetensorsData {
  if (bytes.length < 8) fail('safetensors', `file is truncated: ${bytes.length} bytes, too short for the 8-byte header length`);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n = dv.getBigUint64(0, true);
  if (n > BigInt(MAX_HEADER_BYTES)) fail('safetensors', `header length ${n} exceeds the ${MAX_HEADER_BYTES}-byte limit`);
  const hlen = Number(n);
  if (8 + hlen > bytes.length) {
    fail('safetensors', `header length ${hlen} runs past the end of the file (${bytes.length - 8} bytes follow the length)`);
  }
  const header = parseHeaderJson(bytes.subarray(8, 8 + hlen));
  const buffer = bytes.subarray(8 + hlen);

  let metadata: Record<string, string> = {};
  const entries: [string, ReturnType<typeof checkEntry>][] = [];
  for (const [name, info] of Object.entries(header)) {
    if (name === '__metadata__') metadata = checkMetadata(info ?? {});
    else entries.push([name, checkEntry(name, info, buffer.length)]);
  }
  checkCoverage(entries, buffer.length);
  const tensors = Object.fromEntries(
    entries.map(([name, e]) => {
      const data = decodeElements('safetensors', buffer.subarray(e.begin, e.end), e.format, e.size);
      return [name, { dtype: targetDType(e.format)!, shape: e.shape, data }];
    }),
  );
  return { tensors, metadata };
}

function parseHeaderJson(raw: Uint8Array): Record<string, unknown> {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(raw); // a BOM is not '{'
  } catch {
    return fail('safetensors', 'header is not valid UTF-8');
  }
  if (!text.startsWith('{')) fail('safetensors', `header must be a JSON object starting with '{', got ${JSON.stringify(text.slice(0, 20))}`);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    fail('safetensors', `header is not valid JSON (${(e as Error).message})`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) fail('safetensors', 'header must be a JSON object');
  const dup = findDuplicateKey(text);
  if (dup !== undefined) fail('safetensors', `header has duplicate key ${JSON.stringify(dup)}`);
  return value as Record<string, unknown>;
}

/** The first key repeated within one JSON object of `text` (which must be valid JSON). */
function findDuplicateKey(text: string): string | undefined {
  const stack: (Set<string> | null)[] = [];
  let prev = '';
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '"') {
      let j = i + 1;
      while (text[j] !== '"') j += text[j] === '\\' ? 2 : 1;
      const keys = stack[stack.length - 1];
      if (keys && (prev === '{' || prev === ',')) {
        const key = JSON.parse(text.slice(i, j + 1)) as string;
        if (keys.has(key)) return key;
        keys.add(key);
      }
      [i, prev] = [j, '"'];
      continue;
    }
    if (c === '{') stack.push(new Set());
    else if (c === '[') stack.push(null);
    else if (c === '}' || c === ']') stack.pop();
    if (c !== ' ' && c !== '\n' && c !== '\r' && c !== '\t') prev = c;
  }
  return undefined;
}

function checkMetadata(m: unknown): Record<string, string> {
  if (typeof m !== 'object' || m === null || Array.isArray(m)) fail('safetensors', '__metadata__ must be an object of strings');
  for (const [k, v] of Object.entries(m)) {
    if (typeof v !== 'string') fail('safetensors', `__metadata__ value for ${JSON.stringify(k)} must be a string, got ${JSON.stringify(v)}`);
  }
  return m as Record<string, string>;
}

function checkEntry(name: string, info: unknown, bufferLength: number) {
  const what = `tensor '${name}'`;
  if (typeof info !== 'object' || info === null || Array.isArray(info)) fail('safetensors', `${what} must be an object`);
  const { dtype, shape, data_offsets: offsets } = info as Record<string, unknown>;
  if (typeof dtype !== 'string') fail('safetensors', `${what} has no dtype string`);
  const base = READ_FORMAT[dtype];
  if (!base) {
    const known = UNSUPPORTED.includes(dtype);
    fail('safetensors', known ? `${what} has unsupported dtype ${dtype}` : `${what} has unknown dtype ${JSON.stringify(dtype)}`);
  }
  const format: ElementFormat = { ...base, little: true, name: dtype };
  const size = checkDims('safetensors', shape as unknown[], what);
  if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every((o) => Number.isSafeInteger(o) && o >= 0)) {
    fail('safetensors', `${what} data_offsets must be [begin, end] with non-negative integers, got ${JSON.stringify(offsets)}`);
  }
  const [begin, end] = offsets as number[];
  if (begin > end) fail('safetensors', `${what} data_offsets [${begin}, ${end}] end before they begin`);
  if (end > bufferLength) {
    fail('safetensors', `${what} data_offsets [${begin}, ${end}] are out of range: the data buffer has ${bufferLength} bytes (file truncated?)`);
  }
  const need = size * format.size;
  if (end - begin !== need) {
    const dims = (shape as number[]).join(', ');
    fail('safetensors', `${what} has wrong size: shape [${dims}] of ${dtype} needs ${need} bytes but data_offsets span ${end - begin}`);
  }
  return { format, shape: shape as number[], size, begin, end };
}

/** Checks that the entries' byte ranges tile `[0, bufferLength)` exactly. */
function checkCoverage(entries: [string, { begin: number; end: number }][], bufferLength: number): void {
  const sorted = [...entries].sort(([, a], [, b]) => a.begin - b.begin || a.end - b.end);
  let at = 0;
  let last = '';
  for (const [name, { begin, end }] of sorted) {
    if (begin < at) fail('safetensors', `tensor '${name}' data_offsets [${begin}, ${end}] overlap tensor '${last}', which ends at ${at}`);
    if (begin > at) fail('safetensors', `gap in the data buffer: bytes [${at}, ${begin}) belong to no tensor`);
    [at, last] = [end, name];
  }
  if (at !== bufferLength) {
    fail('safetensors', `gap in the data buffer: bytes [${at}, ${bufferLength}) after the last tensor belong to no tensor`);
  }
}

/**
 * Saves named tensors as a safetensors file. Views are written as their logical elements.
 *
 * @param tensors - name → tensor; the tensors are left untouched.
 * @param metadata - optional string → string map stored as `__metadata__`.
 * @returns the file's bytes, readable with `safetensors.numpy.load`/`load_file`.
 * @example
 * const bytes = await saveSafetensors({ weight: w, bias: b }, { format: 'np' });
 */
export async function saveSafetensors(tensors: Record<string, Tensor>, metadata?: Record<string, string>): Promise<Uint8Array> {
  const entries = Object.entries(tensors);
  for (const [name, t] of entries) {
    if (!(t as { __isTensor?: unknown } | null)?.__isTensor) fail('safetensors', `value for '${name}' is not a Tensor`);
  }
  const arrays = await Promise.all(entries.map(async ([name, t]) => [name, { dtype: t.dtype, shape: t.shape, data: await t.data() }] as const));
  return encodeSafetensors(Object.fromEntries(arrays), metadata);
}

/** What {@link loadSafetensors} returns. */
export interface LoadedSafetensors {
  readonly tensors: Record<string, Tensor>;
  readonly metadata: Record<string, string>;
}

/**
 * Loads the tensors of a safetensors file (see {@link decodeSafetensors} for what is accepted).
 * Nothing is created unless the whole file is valid.
 *
 * @param bytes - the whole file.
 * @param opts - `backend` to create the tensors on.
 * @example
 * const { tensors, metadata } = loadSafetensors(bytes);
 * tensors.weight.shape; // [768, 768]
 */
export function loadSafetensors(bytes: Uint8Array, opts: LoadOptions = {}): LoadedSafetensors {
  const { tensors, metadata } = decodeSafetensors(bytes);
  const out: [string, Tensor][] = [];
  try {
    for (const [name, a] of Object.entries(tensors)) out.push([name, fromArray('safetensors', a.data, a.shape, a.dtype, opts.backend)]);
  } catch (e) {
    for (const [, t] of out) t.dispose();
    throw e;
  }
  return { tensors: Object.fromEntries(out), metadata };
}

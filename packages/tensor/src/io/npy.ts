/**
 * NumPy `.npy` files (format versions 1.0, 2.0 and 3.0).
 *
 * Layout: the magic `\x93NUMPY`, a major and minor version byte, the header length (u16 in 1.0,
 * u32 in 2.0/3.0, little-endian), then a Python dict literal such as
 * `{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }` padded with spaces and ended by
 * `\n` so the data starts at a multiple of 64 bytes, then the raw elements.
 */
import type { DType } from '../dtype.js';
import { fromArray } from '../engine.js';
import { fail, fmt } from '../errors.js';
import type { Tensor } from '../tensor.js';
import type { ArrayData, ElementFormat, LoadOptions } from './common.js';
import { checkArrayData, decodeElements, encodeElements, targetDType } from './common.js';

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY
const ALIGN = 64;
const DESCR: Record<DType, string> = { float32: '<f4', float64: '<f8', int32: '<i4', uint8: '|u1', bool: '|b1' };
const KIND_NAMES: Record<string, string> = {
  c: 'complex numbers', U: 'unicode strings', S: 'byte strings', a: 'byte strings', O: 'Python objects',
  V: 'raw void records', M: 'datetimes', m: 'timedeltas',
};

/**
 * Encodes a dense row-major array as a version 1.0 `.npy` file, byte for byte what `np.save`
 * writes (little-endian, C order).
 *
 * @param array - `{ dtype, shape, data }` where `data` is the dtype's typed array in row-major order.
 * @returns the file's bytes.
 * @example
 * const bytes = encodeNpy({ dtype: 'float32', shape: [2], data: new Float32Array([1, 2]) });
 */
export function encodeNpy(array: ArrayData): Uint8Array {
  checkArrayData('npy', array);
  const { dtype, shape } = array;
  const dims = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
  let header = `{'descr': '${DESCR[dtype]}', 'fortran_order': False, 'shape': ${dims}, }`;
  // Like NumPy, leave room for the first dim to grow to 21 digits so the header can be rewritten in place.
  if (shape.length > 0) header += ' '.repeat(21 - String(shape[0]).length);
  let version = 1;
  let prefix = 10;
  if (header.length + 1 + ALIGN > 0xffff) [version, prefix] = [2, 12];
  const pad = ALIGN - ((prefix + header.length + 1) % ALIGN);
  header += ' '.repeat(pad) + '\n';
  const body = encodeElements(dtype, array.data);
  const out = new Uint8Array(prefix + header.length + body.length);
  out.set(MAGIC);
  out[6] = version;
  const dv = new DataView(out.buffer);
  if (version === 1) dv.setUint16(8, header.length, true);
  else dv.setUint32(8, header.length, true);
  for (let i = 0; i < header.length; i++) out[prefix + i] = header.charCodeAt(i);
  out.set(body, prefix + header.length);
  return out;
}

/**
 * Decodes a `.npy` file into a dense row-major array.
 *
 * Accepts versions 1.0–3.0, either byte order and Fortran order. Types without an exact
 * equivalent widen only when no value changes: int8/int16/uint16 → int32, float16 → float32,
 * int64/uint64/uint32 → int32 when every value fits (otherwise an error names the value).
 *
 * @param bytes - the whole file.
 * @throws TensorError (`npy: ...`) for malformed, truncated or unsupported files.
 * @example
 * const { dtype, shape, data } = decodeNpy(bytes); // 'float32', [2, 3], Float32Array(6)
 */
export function decodeNpy(bytes: Uint8Array): ArrayData {
  if (bytes.length < 10 || MAGIC.some((b, i) => bytes[i] !== b)) {
    fail('npy', `not a .npy file: bad magic (expected \\x93NUMPY, got ${describe(bytes.subarray(0, 6))})`);
  }
  const [major, minor] = [bytes[6], bytes[7]];
  if (major < 1 || major > 3 || minor !== 0) fail('npy', `unsupported format version ${major}.${minor} (supported: 1.0, 2.0, 3.0)`);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const prefix = major === 1 ? 10 : 12;
  if (bytes.length < prefix) fail('npy', `file is truncated: ${bytes.length} bytes, too short for the header length`);
  const hlen = major === 1 ? dv.getUint16(8, true) : dv.getUint32(8, true);
  if (prefix + hlen > bytes.length) {
    fail('npy', `header length ${hlen} runs past the end of the file (${bytes.length - prefix} bytes after the length field)`);
  }
  const raw = bytes.subarray(prefix, prefix + hlen);
  const text = major === 3 ? decodeUtf8(raw) : Array.from(raw, (b) => String.fromCharCode(b)).join('');
  const { descr, fortran, shape } = parseHeader(text);
  const format = parseDescr(descr);
  const size = shape.reduce((n, d) => n * d, 1);
  const need = size * format.size;
  if (!Number.isSafeInteger(need)) fail('npy', `shape ${fmt(shape)} is too large`);
  const have = bytes.length - prefix - hlen;
  const needs = `shape ${fmt(shape)} of ${descr} needs ${need} bytes but ${have} follow the header`;
  if (have < need) fail('npy', `data is truncated: ${needs}`);
  if (have > need) fail('npy', `data length disagrees with the shape: ${needs}`);
  const data = decodeElements('npy', bytes.subarray(prefix + hlen), format, size);
  const dtype = targetDType(format)!;
  return { dtype, shape, data: fortran ? fortranToRowMajor(data, shape) : data };
}

function decodeUtf8(raw: Uint8Array): string {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(raw);
  } catch {
    return fail('npy', 'header is not valid UTF-8');
  }
}

function describe(b: Uint8Array): string {
  return Array.from(b, (x) => (x >= 0x20 && x < 0x7f ? String.fromCharCode(x) : `\\x${x.toString(16).padStart(2, '0')}`)).join('');
}

/** Parses a descr such as `<f4`, `>i8` or `|b1`. */
function parseDescr(descr: string): ElementFormat {
  const m = /^([<>|=]?)([a-zA-Z])(\d+)$/.exec(descr);
  if (!m) fail('npy', `unsupported descr ${JSON.stringify(descr)}`);
  const [, order, code, digits] = m;
  const size = Number(digits);
  if (KIND_NAMES[code]) fail('npy', `descr '${descr}' holds ${KIND_NAMES[code]}, which a tensor cannot store`);
  const kind = code === 'f' || code === 'i' || code === 'u' || code === 'b' ? code : undefined;
  const format: ElementFormat = { kind: kind ?? 'u', size, little: order !== '>', name: descr };
  if (!kind || !targetDType(format)) fail('npy', `unsupported descr '${descr}'`);
  if (size > 1 && order !== '<' && order !== '>') fail('npy', `descr '${descr}' has no explicit byte order ('<' or '>')`);
  return format;
}

interface Header {
  descr: string;
  fortran: boolean;
  shape: number[];
}

/** A strict parser for the header's Python dict literal. */
function parseHeader(text: string): Header {
  let pos = 0;
  const bad = (what: string): never => fail('npy', `malformed header ${JSON.stringify(text.trimEnd())}: ${what} at character ${pos}`);
  const peek = (): string => {
    while (pos < text.length && ' \t\r\n'.includes(text[pos])) pos++;
    return text[pos] ?? '';
  };
  const eat = (c: string): void => void (peek() === c ? pos++ : bad(`expected '${c}'`));
  const str = (): string => {
    const q = peek();
    if (q !== "'" && q !== '"') bad('expected a quoted string');
    const end = text.indexOf(q, pos + 1);
    if (end < 0) bad('unterminated string');
    const s = text.slice(pos + 1, end);
    if (s.includes('\\')) bad('escapes in strings are not supported');
    pos = end + 1;
    return s;
  };
  const dim = (): number => {
    const m = /[+-]?[\w.]+/y;
    m.lastIndex = pos;
    const tok = m.exec(text)?.[0] ?? bad('expected a dimension');
    if (!/^[+-]?\d+$/.test(tok)) fail('npy', `shape dimension '${tok}' is not a non-negative integer`);
    const d = Number(tok);
    if (d < 0) fail('npy', `shape has a negative dimension ${tok}`);
    if (!Number.isSafeInteger(d)) fail('npy', `shape dimension ${tok} is too large`);
    pos += tok.length;
    return d;
  };
  const tuple = (): number[] => {
    eat('(');
    const dims: number[] = [];
    while (peek() !== ')') {
      dims.push(dim());
      if (peek() === ',') pos++;
      else if (peek() !== ')') bad("expected ',' or ')' in the shape");
      else if (dims.length === 1) bad('a one-element shape needs a trailing comma, as in (3,)');
    }
    pos++;
    return dims;
  };
  const value = (): string | boolean | number[] => {
    const c = peek();
    if (c === "'" || c === '"') return str();
    if (c === '(') return tuple();
    if (c === '[') fail('npy', 'structured dtypes (a list descr) are not supported');
    for (const [word, v] of [['True', true], ['False', false]] as const) {
      if (text.startsWith(word, pos)) return (pos += word.length), v;
    }
    return bad('expected a string, True, False or a tuple');
  };

  const d = new Map<string, string | boolean | number[]>();
  eat('{');
  while (peek() !== '}') {
    const key = str();
    if (d.has(key)) bad(`duplicate key '${key}'`);
    eat(':');
    d.set(key, value());
    if (peek() === ',') pos++;
    else if (peek() !== '}') bad("expected ',' or '}'");
  }
  pos++;
  if (peek() !== '') bad('unexpected text after the dictionary');
  for (const key of d.keys()) {
    if (key !== 'descr' && key !== 'fortran_order' && key !== 'shape') fail('npy', `header has unexpected key '${key}'`);
  }
  const descr = d.get('descr');
  const fortran = d.get('fortran_order');
  const shape = d.get('shape');
  if (descr === undefined || fortran === undefined || shape === undefined) {
    const missing = ['descr', 'fortran_order', 'shape'].filter((k) => !d.has(k));
    fail('npy', `header is missing key${missing.length > 1 ? 's' : ''} ${missing.map((k) => `'${k}'`).join(', ')}`);
  }
  if (typeof descr !== 'string') fail('npy', "header 'descr' must be a string");
  if (typeof fortran !== 'boolean') fail('npy', "header 'fortran_order' must be True or False");
  if (!Array.isArray(shape)) fail('npy', "header 'shape' must be a tuple of integers");
  return { descr, fortran, shape };
}

/** Reorders column-major (Fortran) data of `shape` into row-major order. */
function fortranToRowMajor<T extends ArrayData['data']>(data: T, shape: readonly number[]): T {
  const rank = shape.length;
  if (rank < 2 || data.length === 0) return data;
  const out = new (data.constructor as new (n: number) => T)(data.length);
  const strides: number[] = [];
  for (let i = 0, s = 1; i < rank; s *= shape[i], i++) strides.push(s);
  const idx = new Array<number>(rank).fill(0);
  let src = 0;
  for (let k = 0; k < data.length; k++) {
    out[k] = data[src];
    for (let d = rank - 1; d >= 0; d--) {
      src += strides[d];
      if (++idx[d] < shape[d]) break;
      src -= strides[d] * shape[d];
      idx[d] = 0;
    }
  }
  return out;
}

/**
 * Encodes a tensor as a `.npy` file (row-major, little-endian). Views are written as their
 * logical elements, so a transposed or sliced tensor saves like its contiguous copy.
 *
 * @param t - the tensor to save; it is left untouched.
 * @returns the file's bytes, readable with `np.load`.
 * @example
 * const bytes = await toNpy(tensor([[1, 2], [3, 4]]));
 */
export async function toNpy(t: Tensor): Promise<Uint8Array> {
  if (!(t as { __isTensor?: unknown } | null)?.__isTensor) fail('npy', `toNpy expects a Tensor, got ${String(t)}`);
  return encodeNpy({ dtype: t.dtype, shape: t.shape, data: await t.data() });
}

/**
 * Creates a tensor from the bytes of a `.npy` file (see {@link decodeNpy} for what is accepted).
 *
 * @param bytes - the whole file.
 * @param opts - `backend` to create the tensor on.
 * @example
 * const t = fromNpy(new Uint8Array(await (await fetch('w.npy')).arrayBuffer()));
 */
export function fromNpy(bytes: Uint8Array, opts: LoadOptions = {}): Tensor {
  const { dtype, shape, data } = decodeNpy(bytes);
  return fromArray('npy', data, shape, dtype, opts.backend);
}

/**
 * Byte-level helpers shared by the file formats: element decoding with exact widening, and
 * little-endian encoding of typed arrays. Everything here works on Uint8Array/DataView only.
 */
import type { Backend } from '../backend.js';
import type { DType, TypedArray } from '../dtype.js';
import { allocArray, arrayMatchesDType, isDType, itemSize } from '../dtype.js';
import { fail, fmt } from '../errors.js';

/** A dense row-major array: what the byte-level encoders take and the decoders return. */
export interface ArrayData {
  readonly dtype: DType;
  readonly shape: readonly number[];
  readonly data: TypedArray;
}

/** Options for creating tensors from a file. */
export interface LoadOptions {
  /** The backend to create tensors on (the default backend if omitted). */
  readonly backend?: Backend;
}

/** How elements are stored in a file: kind, bytes per element and byte order. */
export interface ElementFormat {
  /** f: IEEE float, bf: bfloat16, i: signed int, u: unsigned int, b: bool. */
  readonly kind: 'f' | 'bf' | 'i' | 'u' | 'b';
  readonly size: number;
  readonly little: boolean;
  /** The format's own name for it (`<f4`, `F16`), used in messages. */
  readonly name: string;
}

export const HOST_LITTLE = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** The dtype an element format is read into, or undefined if it cannot be stored. */
export function targetDType(f: ElementFormat): DType | undefined {
  const { kind, size } = f;
  if (kind === 'b') return size === 1 ? 'bool' : undefined;
  if (kind === 'bf') return size === 2 ? 'float32' : undefined;
  if (kind === 'f') return size === 2 || size === 4 ? 'float32' : size === 8 ? 'float64' : undefined;
  if (kind === 'u' && size === 1) return 'uint8';
  return size === 1 || size === 2 || size === 4 || size === 8 ? 'int32' : undefined;
}

/** The exact float32 value of an IEEE half-precision bit pattern. */
export function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24;
  if (exp === 31) return frac ? NaN : sign * Infinity;
  return sign * (1024 + frac) * 2 ** (exp - 25);
}

/**
 * Decodes `count` elements stored as `f` in `bytes` (exactly `count * f.size` bytes). Narrower
 * types widen exactly; 64-bit and uint32 integers become int32 only when every value fits,
 * otherwise the error names the first value that does not.
 */
export function decodeElements(op: string, bytes: Uint8Array, f: ElementFormat, count: number): ArrayData['data'] {
  const dtype = targetDType(f);
  if (!dtype) fail(op, `unsupported element type ${f.name}`);
  const native = f.size === 1 || f.little === HOST_LITTLE;
  if (native && itemSize(dtype) === f.size && f.kind !== 'bf' && !(f.kind === 'u' && f.size === 4)) {
    // Same layout as the typed array: one aligned copy.
    const copy = bytes.slice();
    if (dtype === 'float32') return new Float32Array(copy.buffer);
    if (dtype === 'float64') return new Float64Array(copy.buffer);
    if (dtype === 'int32') return new Int32Array(copy.buffer);
    if (dtype === 'bool') for (let i = 0; i < count; i++) copy[i] = copy[i] ? 1 : 0;
    return copy;
  }
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const le = f.little;
  if (f.kind === 'bf') {
    const bits = new Uint32Array(count);
    for (let i = 0; i < count; i++) bits[i] = dv.getUint16(2 * i, le) << 16;
    return new Float32Array(bits.buffer);
  }
  const out = allocArray(dtype, count);
  const read = elementReader(dv, f);
  for (let i = 0; i < count; i++) {
    const v = read(i);
    if (dtype === 'int32' && (v < -2147483648 || v > 2147483647)) {
      fail(op, `${f.name} value ${bigValue(dv, f, i)} at index ${i} does not fit in int32`);
    }
    out[i] = dtype === 'bool' ? (v ? 1 : 0) : v;
  }
  return out;
}

function elementReader(dv: DataView, f: ElementFormat): (i: number) => number {
  const le = f.little;
  const key = `${f.kind}${f.size}`;
  switch (key) {
    case 'f2': return (i) => halfToFloat(dv.getUint16(2 * i, le));
    case 'f4': return (i) => dv.getFloat32(4 * i, le);
    case 'f8': return (i) => dv.getFloat64(8 * i, le);
    case 'i1': return (i) => dv.getInt8(i);
    case 'i2': return (i) => dv.getInt16(2 * i, le);
    case 'i4': return (i) => dv.getInt32(4 * i, le);
    case 'u2': return (i) => dv.getUint16(2 * i, le);
    case 'u4': return (i) => dv.getUint32(4 * i, le);
    // 64-bit: the value fits in int32 exactly when the high word is the sign extension of the low.
    case 'i8': case 'u8': return (i) => {
      const lo = dv.getInt32(8 * i + (le ? 0 : 4), le);
      const hi = dv.getInt32(8 * i + (le ? 4 : 0), le);
      return hi === lo >> 31 && !(f.kind === 'u' && lo < 0) ? lo : Infinity;
    };
    default: return (i) => dv.getUint8(i);
  }
}

function bigValue(dv: DataView, f: ElementFormat, i: number): string {
  if (f.size !== 8) return String(dv.getUint32(4 * i, f.little));
  return String(f.kind === 'u' ? dv.getBigUint64(8 * i, f.little) : dv.getBigInt64(8 * i, f.little));
}

/** The little-endian bytes of `data` (a fresh copy); bools are written as 0/1. */
export function encodeElements(dtype: DType, data: TypedArray): Uint8Array {
  const out = new Uint8Array(data.byteLength);
  if (HOST_LITTLE || data.BYTES_PER_ELEMENT === 1) {
    out.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
  } else {
    const dv = new DataView(out.buffer);
    for (let i = 0; i < data.length; i++) {
      if (dtype === 'float32') dv.setFloat32(4 * i, data[i], true);
      else if (dtype === 'float64') dv.setFloat64(8 * i, data[i], true);
      else dv.setInt32(4 * i, data[i], true);
    }
  }
  if (dtype === 'bool') for (let i = 0; i < out.length; i++) out[i] = out[i] ? 1 : 0;
  return out;
}

/** Checks what an encoder is given: a known dtype, a valid shape, and matching data. */
export function checkArrayData(op: string, a: ArrayData, what = 'array'): void {
  if (typeof a !== 'object' || a === null) fail(op, `${what} must be { dtype, shape, data }, got ${String(a)}`);
  if (!isDType(a.dtype)) fail(op, `${what} has unknown dtype ${String(a.dtype)}`);
  checkDims(op, a.shape, what);
  const size = a.shape.reduce((n, d) => n * d, 1);
  if (!ArrayBuffer.isView(a.data) || !arrayMatchesDType(a.data, a.dtype)) {
    fail(op, `${what} data must be the typed array for dtype ${a.dtype}, got ${a.data?.constructor?.name ?? typeof a.data}`);
  }
  if (a.data.length !== size) fail(op, `${what} data has ${a.data.length} elements but shape ${fmt(a.shape)} needs ${size}`);
}

/** Checks that every dim is a non-negative safe integer and that the size is a safe integer. */
export function checkDims(op: string, shape: readonly unknown[], what: string): number {
  if (!Array.isArray(shape)) fail(op, `${what} shape must be an array, got ${JSON.stringify(shape)}`);
  let size = 1;
  for (const d of shape) {
    if (typeof d !== 'number' || !Number.isSafeInteger(d) || d < 0) {
      fail(op, `${what} shape must contain non-negative integers, got [${shape.map(String).join(', ')}]`);
    }
    size *= d;
  }
  if (!Number.isSafeInteger(size)) fail(op, `${what} shape (${shape.join(', ')}) has too many elements`);
  return size;
}

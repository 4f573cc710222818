/**
 * The IDX file format (the format of the MNIST files): a 4-byte magic number `0, 0, type, ndim`,
 * then `ndim` big-endian uint32 dims, then the data, row-major and big-endian.
 *
 * | type code | element |
 * | --- | --- |
 * | 0x08 | unsigned byte |
 * | 0x09 | signed byte |
 * | 0x0B | int16 |
 * | 0x0C | int32 |
 * | 0x0D | float32 |
 * | 0x0E | float64 |
 */

/** The element type of an IDX file. */
export type IdxType = 'uint8' | 'int8' | 'int16' | 'int32' | 'float32' | 'float64';

/** A decoded IDX array: its element type, dims and data (native byte order, row-major). */
export interface IdxArray {
  type: IdxType;
  shape: number[];
  data: Uint8Array | Int8Array | Int16Array | Int32Array | Float32Array | Float64Array;
}

const TYPES: Record<number, { type: IdxType; size: number }> = {
  0x08: { type: 'uint8', size: 1 },
  0x09: { type: 'int8', size: 1 },
  0x0b: { type: 'int16', size: 2 },
  0x0c: { type: 'int32', size: 4 },
  0x0d: { type: 'float32', size: 4 },
  0x0e: { type: 'float64', size: 8 },
};

/** Whether `bytes` start with the gzip magic number `1f 8b`. */
export function isGzip(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
}

function hex(b: number): string {
  return `0x${b.toString(16).padStart(2, '0')}`;
}

/**
 * Decodes an (uncompressed) IDX file. Every size is checked: the header must be complete, the
 * type code known, and the data exactly `prod(dims) · itemsize` bytes long.
 *
 * @param bytes  the file's bytes
 * @returns the element type, shape and data (multi-byte values converted to native order)
 * @throws when the bytes are gzip-compressed (use {@link gunzip} or {@link readIdx}), truncated,
 *   have trailing bytes or a bad magic number
 * @example
 * ```ts
 * const { shape, data } = decodeIdx(bytes); // shape [60000, 28, 28], data Uint8Array
 * ```
 */
export function decodeIdx(bytes: Uint8Array): IdxArray {
  const op = 'decodeIdx';
  if (!(bytes instanceof Uint8Array)) throw new TypeError(`${op}: expected a Uint8Array`);
  if (isGzip(bytes)) {
    throw new Error(`${op}: the bytes are gzip-compressed (they start with 1f 8b); decompress them first with await gunzip(bytes), or use await readIdx(bytes)`);
  }
  if (bytes.length < 4) throw new Error(`${op}: truncated file: ${bytes.length} bytes, the magic number alone needs 4`);
  if (bytes[0] !== 0 || bytes[1] !== 0) {
    throw new Error(`${op}: bad magic number ${[...bytes.subarray(0, 4)].map(hex).join(' ')}: an IDX file starts with 0x00 0x00`);
  }
  const spec = TYPES[bytes[2]];
  if (!spec) throw new Error(`${op}: unknown type code ${hex(bytes[2])} (expected 0x08, 0x09, 0x0b, 0x0c, 0x0d or 0x0e)`);
  const ndim = bytes[3];
  const header = 4 + 4 * ndim;
  if (bytes.length < header) {
    throw new Error(`${op}: truncated header: ${ndim} dims need ${header} header bytes, the file has ${bytes.length}`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const shape = Array.from({ length: ndim }, (_, i) => view.getUint32(4 + 4 * i, false));
  const count = shape.reduce((a, b) => a * b, 1);
  const expected = header + count * spec.size;
  if (bytes.length !== expected) {
    const what = bytes.length < expected ? 'truncated' : 'size mismatch';
    throw new Error(
      `${op}: ${what}: shape (${shape.join(', ')}) of ${spec.type} needs ${header} + ${count * spec.size} = ${expected} bytes, the file has ${bytes.length}`,
    );
  }
  return { type: spec.type, shape, data: readData(view, header, count, spec.type) };
}

function readData(view: DataView, at: number, n: number, type: IdxType): IdxArray['data'] {
  switch (type) {
    case 'uint8':
      return new Uint8Array(view.buffer.slice(view.byteOffset + at, view.byteOffset + at + n));
    case 'int8':
      return new Int8Array(view.buffer.slice(view.byteOffset + at, view.byteOffset + at + n));
    case 'int16': {
      const out = new Int16Array(n);
      for (let i = 0; i < n; i++) out[i] = view.getInt16(at + 2 * i, false);
      return out;
    }
    case 'int32': {
      const out = new Int32Array(n);
      for (let i = 0; i < n; i++) out[i] = view.getInt32(at + 4 * i, false);
      return out;
    }
    case 'float32': {
      const out = new Float32Array(n);
      for (let i = 0; i < n; i++) out[i] = view.getFloat32(at + 4 * i, false);
      return out;
    }
    case 'float64': {
      const out = new Float64Array(n);
      for (let i = 0; i < n; i++) out[i] = view.getFloat64(at + 8 * i, false);
      return out;
    }
  }
}

/**
 * Decompresses gzip bytes with the platform's `DecompressionStream` (browsers, Node ≥ 18, Deno).
 * @throws when the runtime has no `DecompressionStream`, or the data is not valid gzip
 */
export async function gunzip(bytes: Uint8Array): Promise<Uint8Array> {
  const DS = (globalThis as { DecompressionStream?: new (format: string) => TransformStream<Uint8Array, Uint8Array> }).DecompressionStream;
  if (!DS) throw new Error('gunzip: this runtime has no DecompressionStream; decompress the file before reading it');
  try {
    const stream = new Blob([bytes as Uint8Array<ArrayBuffer>]).stream().pipeThrough(new DS('gzip'));
    return new Uint8Array(await new Response(stream).arrayBuffer());
  } catch (e) {
    throw new Error(`gunzip: invalid gzip data (${(e as Error).message})`);
  }
}

/**
 * Decodes an IDX file that may be gzip-compressed (`.gz`, detected by its magic number).
 * @example
 * ```ts
 * const labels = await readIdx(await (await fetch(url)).bytes());
 * ```
 */
export async function readIdx(bytes: Uint8Array): Promise<IdxArray> {
  return decodeIdx(isGzip(bytes) ? await gunzip(bytes) : bytes);
}

/**
 * Encodes an array as an IDX file (the inverse of {@link decodeIdx}); handy for tests and for
 * writing small datasets in the MNIST format.
 */
export function encodeIdx(arr: IdxArray): Uint8Array {
  const spec = Object.entries(TYPES).find(([, s]) => s.type === arr.type);
  if (!spec) throw new Error(`encodeIdx: unknown type ${String(arr.type)}`);
  const [code, { size }] = spec;
  const count = arr.shape.reduce((a, b) => a * b, 1);
  if (arr.data.length !== count) throw new Error(`encodeIdx: shape (${arr.shape.join(', ')}) needs ${count} elements, data has ${arr.data.length}`);
  if (arr.shape.length > 255) throw new Error('encodeIdx: at most 255 dims');
  const header = 4 + 4 * arr.shape.length;
  const out = new Uint8Array(header + count * size);
  const view = new DataView(out.buffer);
  out[2] = Number(code);
  out[3] = arr.shape.length;
  arr.shape.forEach((d, i) => view.setUint32(4 + 4 * i, d, false));
  for (let i = 0; i < count; i++) {
    const at = header + i * size;
    const v = arr.data[i];
    switch (arr.type) {
      case 'uint8': view.setUint8(at, v); break;
      case 'int8': view.setInt8(at, v); break;
      case 'int16': view.setInt16(at, v, false); break;
      case 'int32': view.setInt32(at, v, false); break;
      case 'float32': view.setFloat32(at, v, false); break;
      case 'float64': view.setFloat64(at, v, false); break;
    }
  }
  return out;
}

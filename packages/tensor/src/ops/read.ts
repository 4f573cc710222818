/** Reading tensors back to JS. */
import type { TypedArray } from '../dtype.js';
import { itemSize } from '../dtype.js';
import { fail } from '../errors.js';
import type { NestedArray, Tensor } from '../tensor.js';
import { copyForRead } from '../engine.js';

/** Whether `t` is exactly its whole buffer, in order (so it can be read without a copy kernel). */
function isWholeBuffer(t: Tensor): boolean {
  return t.offset === 0 && t.isContiguous && t.size === t.ref.bytes / itemSize(t.dtype);
}

/** @internal */
export async function readData(t: Tensor): Promise<TypedArray> {
  if (t.size === 0) return emptyOf(t);
  if (isWholeBuffer(t)) return t.backend.read(t.storage, t.dtype);
  const copy = copyForRead(t);
  try {
    return await t.backend.read(copy, t.dtype);
  } finally {
    t.backend.free(copy);
  }
}

/** @internal */
export function readDataSync(t: Tensor): TypedArray {
  const be = t.backend;
  if (!be.readSync) fail('dataSync', `backend "${be.name}" cannot read synchronously; use await t.data()`);
  if (t.size === 0) return emptyOf(t);
  if (isWholeBuffer(t)) return be.readSync(t.storage, t.dtype);
  const copy = copyForRead(t);
  try {
    return be.readSync(copy, t.dtype);
  } finally {
    be.free(copy);
  }
}

function emptyOf(t: Tensor): TypedArray {
  switch (t.dtype) {
    case 'float32': return new Float32Array(0);
    case 'float64': return new Float64Array(0);
    case 'int32': return new Int32Array(0);
    default: return new Uint8Array(0);
  }
}

/** @internal Turns flat row-major data into nested arrays following `t.shape`. */
export function toNested(t: Tensor, data: TypedArray): NestedArray {
  const isBool = t.dtype === 'bool';
  const shape = t.shape;
  let pos = 0;
  const build = (dim: number): NestedArray => {
    if (dim === shape.length) {
      const v = data[pos++];
      return isBool ? v !== 0 : v;
    }
    const out: NestedArray[] = new Array(shape[dim]);
    for (let i = 0; i < shape[dim]; i++) out[i] = build(dim + 1);
    return out;
  };
  return build(0);
}

/**
 * Data types and the promotion rules shared by every backend.
 *
 * Order of promotion: `bool < uint8 < int32 < float32 < float64`. Combining two tensors gives the
 * larger of the two dtypes. A JS number is "weak": it adopts the tensor's dtype when it fits
 * (`int32 + 2 → int32`, `float32 + 2.5 → float32`) and only lifts an integer tensor to float32
 * when it has a fractional part (`int32 + 2.5 → float32`).
 *
 * Arithmetic on `bool` (add, mul, sum...) computes in int32, so `mask.sum()` counts.
 * Division is always true division: integer inputs give float32.
 */
export type DType = 'float32' | 'float64' | 'int32' | 'uint8' | 'bool';

export const DTYPES: readonly DType[] = ['bool', 'uint8', 'int32', 'float32', 'float64'];

/** The typed array that stores each dtype (bool is stored as 0/1 bytes). */
export type TypedArray = Float32Array | Float64Array | Int32Array | Uint8Array;

export type TypedArrayFor<D extends DType> = D extends 'float32'
  ? Float32Array
  : D extends 'float64'
    ? Float64Array
    : D extends 'int32'
      ? Int32Array
      : Uint8Array;

const RANK: Record<DType, number> = { bool: 0, uint8: 1, int32: 2, float32: 3, float64: 4 };

/** Bytes per element. */
export function itemSize(dtype: DType): number {
  return dtype === 'float64' ? 8 : dtype === 'float32' || dtype === 'int32' ? 4 : 1;
}

export function isFloat(dtype: DType): boolean {
  return dtype === 'float32' || dtype === 'float64';
}

export function isInteger(dtype: DType): boolean {
  return dtype === 'int32' || dtype === 'uint8';
}

export function isDType(x: unknown): x is DType {
  return typeof x === 'string' && (DTYPES as readonly string[]).includes(x);
}

/** Allocates a zero-filled typed array for `size` elements of `dtype`. */
export function allocArray(dtype: DType, size: number): TypedArray {
  switch (dtype) {
    case 'float32':
      return new Float32Array(size);
    case 'float64':
      return new Float64Array(size);
    case 'int32':
      return new Int32Array(size);
    case 'uint8':
    case 'bool':
      return new Uint8Array(size);
  }
}

/** The dtype a typed array stores by default (Uint8Array → uint8). */
export function dtypeOfArray(a: TypedArray): DType {
  if (a instanceof Float32Array) return 'float32';
  if (a instanceof Float64Array) return 'float64';
  if (a instanceof Int32Array) return 'int32';
  return 'uint8';
}

/** Whether `a` is the typed array class used to store `dtype`. */
export function arrayMatchesDType(a: TypedArray, dtype: DType): boolean {
  const d = dtypeOfArray(a);
  return d === dtype || (dtype === 'bool' && d === 'uint8');
}

/** The larger of two dtypes in the promotion order. */
export function promoteTypes(a: DType, b: DType): DType {
  return RANK[a] >= RANK[b] ? a : b;
}

/** The dtype of `tensorDtype (op) value` where `value` is a weak JS scalar. */
export function promoteWithScalar(tensorDtype: DType, value: number | boolean): DType {
  if (typeof value === 'boolean') return tensorDtype;
  if (isFloat(tensorDtype)) return tensorDtype;
  if (!Number.isInteger(value)) return 'float32';
  if (tensorDtype === 'bool') return 'int32';
  if (tensorDtype === 'uint8' && (value < 0 || value > 255)) return 'int32';
  return tensorDtype;
}

/** The dtype arithmetic is computed in: bool lifts to int32. */
export function arithmeticType(d: DType): DType {
  return d === 'bool' ? 'int32' : d;
}

/** The float dtype a math function (exp, log...) returns for an input dtype. */
export function floatType(d: DType): DType {
  return isFloat(d) ? d : 'float32';
}

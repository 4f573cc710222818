/**
 * Small helpers shared by the layers: argument checks that name the layer and the argument, shape
 * formatting as in error messages (`(8, 1, 28, 28)`), and PyTorch-style `extraRepr` values.
 */
import { Tensor } from '@ml/tensor';
import type { DType } from '@ml/tensor';

/** A shape as error messages print it: `(8, 1, 28, 28)`, `(3,)` for one dim, `()` for a scalar. */
export function fmtShape(shape: readonly (number | string)[]): string {
  return shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
}

/** Throws `where: message`. */
export function fail(where: string, message: string): never {
  throw new Error(`${where}: ${message}`);
}

/** Fails unless `x` is a live Tensor. */
export function checkTensor(where: string, arg: string, x: unknown): asserts x is Tensor {
  if (!(x instanceof Tensor)) fail(where, `${arg} must be a Tensor, got ${x === null ? 'null' : typeof x}`);
  if (x.isDisposed) fail(where, `${arg} (shape ${fmtShape(x.shape)}) was disposed`);
}

/** Fails unless `x` is a float tensor. */
export function checkFloat(where: string, arg: string, x: Tensor): void {
  if (x.dtype !== 'float32' && x.dtype !== 'float64') fail(where, `${arg} must be float32 or float64, got ${x.dtype} (shape ${fmtShape(x.shape)})`);
}

/** Fails unless `v` is an integer ≥ `min` (1 by default: a size). */
export function checkInt(where: string, arg: string, v: unknown, min = 1): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min) {
    const what = min === 1 ? 'a positive integer' : min === 0 ? 'a non-negative integer' : `an integer ≥ ${min}`;
    fail(where, `${arg} must be ${what}, got ${String(v)}`);
  }
  return v;
}

/** Fails unless `v` is a finite number > 0. */
export function checkPositive(where: string, arg: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) fail(where, `${arg} must be a positive number, got ${String(v)}`);
  return v;
}

/** The float dtype of a layer's parameters: float32 (default) or float64. */
export type FloatDType = 'float32' | 'float64';

/** Checks the `dtype` option of a layer. */
export function checkDtype(where: string, dtype: unknown): FloatDType {
  if (dtype !== 'float32' && dtype !== 'float64') fail(where, `dtype must be 'float32' or 'float64', got ${String(dtype)}`);
  return dtype;
}

/** The dtype a layer computes in: the promotion of its input and parameter float dtypes. */
export function computeDtype(a: DType, b: DType): FloatDType {
  return a === 'float64' || b === 'float64' ? 'float64' : 'float32';
}

/** A boolean as `extraRepr` prints it. */
export function reprBool(b: boolean): string {
  return b ? 'true' : 'false';
}

/** A number as Python's `repr` prints it: `1e-05`, `0.1`, `2.0` stays `2`. */
export function reprNumber(x: number): string {
  if (x !== 0 && Math.abs(x) < 1e-4) {
    const [m, e] = x.toExponential().split('e');
    const exp = Number(e);
    return `${m}e${exp < 0 ? '-' : '+'}${String(Math.abs(exp)).padStart(2, '0')}`;
  }
  return String(x);
}

/** A tuple as Python prints it: `(3, 3)`, `(5,)`. */
export function reprTuple(t: readonly number[]): string {
  return fmtShape(t);
}

/** Argument checks shared by the losses: every message names the loss, the argument and shapes. */
import { broadcastShapes, isFloat, Tensor } from '@ml/tensor';

/** Formats a shape as `(2, 3)`; a scalar is `()`, a vector `(5,)`. */
export function fmt(shape: readonly number[]): string {
  return `(${shape.join(', ')}${shape.length === 1 ? ',' : ''})`;
}

/** Throws an Error whose message starts with the loss's name. */
export function lossError(loss: string, message: string): never {
  throw new Error(`${loss}: ${message}`);
}

/** `x` must be a live Tensor. */
export function checkTensor(loss: string, name: string, x: unknown): asserts x is Tensor {
  if (!(x instanceof Tensor)) lossError(loss, `${name} must be a Tensor, got ${x === null ? 'null' : typeof x}`);
  if (x.isDisposed) lossError(loss, `${name} ${fmt(x.shape)} was disposed`);
}

/** `x` must be a live float32/float64 Tensor. */
export function checkFloat(loss: string, name: string, x: unknown): asserts x is Tensor {
  checkTensor(loss, name, x);
  if (!isFloat(x.dtype)) lossError(loss, `${name} must be float32 or float64, got ${x.dtype} ${fmt(x.shape)}`);
}

/** `b` must have exactly `a`'s shape (losses do not broadcast input against target). */
export function checkSameShape(loss: string, aName: string, a: Tensor, bName: string, b: Tensor): void {
  const same = a.rank === b.rank && a.shape.every((d, i) => d === b.shape[i]);
  if (!same) lossError(loss, `${bName} ${fmt(b.shape)} must have the shape of ${aName} ${fmt(a.shape)}`);
}

/** An optional per-element weight must broadcast to `shape` without growing it. */
export function checkBroadcastsTo(loss: string, name: string, w: Tensor, shape: readonly number[], shapeName: string): void {
  let out: number[] | undefined;
  try {
    out = broadcastShapes(loss, w.shape, shape);
  } catch {
    out = undefined;
  }
  if (!out || out.length !== shape.length || out.some((d, i) => d !== shape[i])) {
    lossError(loss, `${name} ${fmt(w.shape)} does not broadcast to ${shapeName} ${fmt(shape)}`);
  }
}

/** A JS number option that must be finite and satisfy `ok`. */
export function checkNumber(loss: string, name: string, v: unknown, ok: (v: number) => boolean, expected: string): number {
  if (typeof v !== 'number' || Number.isNaN(v) || !ok(v)) lossError(loss, `${name} must be ${expected}, got ${String(v)}`);
  return v;
}

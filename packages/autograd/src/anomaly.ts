/** Anomaly mode: stop at the first op that turns finite values into NaN or Infinity. */
import { addHook, isFloat, removeHook } from '@ml/tensor';
import type { OpRecord, Tensor } from '@ml/tensor';
import { backwardState } from './level.js';

/**
 * The elements of `t` in row-major order, read from its buffer through its strides. (`dataSync`
 * would run a copy op on a view, which re-enters every hook, this one included.)
 */
function elements(t: Tensor): Float64Array {
  const buf = t.backend.readSync!(t.storage, t.dtype);
  const out = new Float64Array(t.size);
  const idx = new Array<number>(t.rank).fill(0);
  let pos = t.offset;
  for (let i = 0; i < out.length; i++) {
    out[i] = buf[pos];
    for (let d = t.rank - 1; d >= 0; d--) {
      idx[d]++;
      pos += t.strides[d];
      if (idx[d] < t.shape[d]) break;
      pos -= t.strides[d] * t.shape[d];
      idx[d] = 0;
    }
  }
  return out;
}

function firstNonFinite(t: Tensor): number {
  if (!isFloat(t.dtype) || t.size === 0) return -1;
  const data = elements(t);
  for (let i = 0; i < data.length; i++) if (!Number.isFinite(data[i])) return i;
  return -1;
}

/** Whether the op was asked for a non-finite value (a fill of −∞, max pooling's −∞ padding). */
const requested = (params: Readonly<Record<string, unknown>>): boolean =>
  Object.values(params).some((v) => typeof v === 'number' && !Number.isFinite(v));

const check = (r: OpRecord): void => {
  if (![...r.inputs, ...r.outputs].every((t) => t.backend.readSync)) return;
  if (requested(r.params)) return;
  for (const out of r.outputs) {
    const at = firstNonFinite(out);
    if (at < 0) continue;
    if (r.inputs.some((t) => firstNonFinite(t) >= 0)) return; // it came in that way: not this op's fault
    const value = elements(out)[at];
    const where = backwardState.op ? ` in the backward pass of "${backwardState.op}"` : '';
    throw new Error(
      `anomaly: "${r.op}"${where} produced ${value} at element ${at} of its output (shape (${out.shape.join(', ')})) from finite inputs ` +
        `(shapes ${r.inputs.map((t) => `(${t.shape.join(', ')})`).join(', ')})`,
    );
  }
};

/**
 * Runs `fn` (sync or async) checking every op, forward and backward: the first op that produces a
 * NaN or ±Infinity from finite inputs throws an error naming it. Slow (it reads every result);
 * for debugging. Needs a backend with synchronous reads (the CPU backend).
 */
export function detectAnomaly<T>(fn: () => T): T {
  addHook(check);
  let result: T;
  try {
    result = fn();
  } catch (e) {
    removeHook(check);
    throw e;
  }
  if (result instanceof Promise) return result.finally(() => removeHook(check)) as T;
  removeHook(check);
  return result;
}

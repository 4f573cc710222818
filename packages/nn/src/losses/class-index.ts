/** Picking x[n, target[n, …], …] along the class axis, with ignored positions and range checks. */
import { gather, where } from '@ml/tensor';
import type { Tensor } from '@ml/tensor';
import { fmt, lossError } from './checks.js';

/**
 * `target` with ignored positions set to 0 and negative indices sent past the end, as an index
 * for `gather` along axis 1: (N, d…) → (N, 1, d…). gather wraps negative indices the Python way,
 * so without the second step a target of −1 would silently pick the last class.
 */
export function classIndex(target: Tensor, ignored: Tensor | null, numClasses: number): Tensor {
  const inRange = where(target.lt(0), numClasses, target);
  return (ignored ? where(ignored, 0, inRange) : inRange).unsqueeze(1);
}

/**
 * gather(x, 1, index) (N, 1, d…), turning gather's range error into one that names the loss,
 * the offending target value and position (on backends that read synchronously; elsewhere the
 * error surfaces at the next read, from gather).
 */
export function gatherClasses(loss: string, inputName: string, x: Tensor, index: Tensor, target: Tensor, ignoreIndex: number | null): Tensor {
  try {
    return gather(x, 1, index);
  } catch (e) {
    const c = x.shape[1];
    if (target.backend.readSync) {
      const data = target.dataSync();
      for (let i = 0; i < data.length; i++) {
        const v = data[i];
        if (v === ignoreIndex || (v >= 0 && v < c)) continue;
        const at = unravel(i, target.shape).join(', ');
        const ignore = ignoreIndex === null ? '' : ` nor ignoreIndex ${ignoreIndex}`;
        lossError(loss, `target[${at}] = ${v} is not a class index in [0, ${c})${ignore} (${inputName} ${fmt(x.shape)}, target ${fmt(target.shape)})`);
      }
    }
    throw e;
  }
}

function unravel(flat: number, shape: readonly number[]): number[] {
  const out = new Array<number>(shape.length);
  for (let d = shape.length - 1; d >= 0; d--) {
    out[d] = flat % shape[d];
    flat = Math.floor(flat / shape[d]);
  }
  return out;
}

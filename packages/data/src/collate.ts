/**
 * Default collation: turns a list of samples into one batch, as PyTorch's `default_collate`.
 * Tensors are stacked along a new first dim, numbers become a 1-D tensor, tuples/arrays and plain
 * objects are collated position by position / key by key, strings stay a list.
 */
import { scope, stack, Tensor, tensor } from '@ml/tensor';

/** The batch type that {@link defaultCollate} makes from samples of type `T`. */
export type Collated<T> = T extends Tensor
  ? Tensor
  : T extends number | boolean
    ? Tensor
    : T extends string
      ? string[]
      : T extends readonly unknown[]
        ? { -readonly [K in keyof T]: Collated<T[K]> }
        : T extends object
          ? { [K in keyof T]: Collated<T[K]> }
          : never;

function describe(x: unknown): string {
  if (x instanceof Tensor) return `a tensor of shape (${x.shape.join(', ')})`;
  if (Array.isArray(x)) return `an array of length ${x.length}`;
  if (x !== null && typeof x === 'object') return `an object with keys {${Object.keys(x).join(', ')}}`;
  return x === null ? 'null' : typeof x;
}

/**
 * Collates samples into a batch:
 * - tensors of equal shape `S` → one tensor `(B, ...S)` (`stack`);
 * - numbers → a `(B,)` tensor, int32 when all are integers, else float32; booleans → bool;
 * - arrays (tuples) of equal length → an array of collated positions;
 * - plain objects with equal keys → an object of collated fields;
 * - strings → the array of strings.
 *
 * @example
 * ```ts
 * defaultCollate([[x0, 3], [x1, 7]]); // [stack([x0, x1]), tensor([3, 7], int32)]
 * ```
 */
export function defaultCollate<T>(samples: readonly T[]): Collated<T> {
  if (samples.length === 0) throw new Error('defaultCollate: needs at least one sample');
  return scope(() => collate(samples as readonly unknown[], 'sample')) as Collated<T>;
}

function collate(items: readonly unknown[], path: string): unknown {
  const first = items[0];
  const mismatch = (i: number, what: string): never => {
    throw new Error(`defaultCollate: ${path} ${i} is ${describe(items[i])}, but ${path} 0 is ${describe(first)}${what}`);
  };
  if (first instanceof Tensor) {
    items.forEach((t, i) => {
      if (!(t instanceof Tensor)) mismatch(i, '');
      else if (t.rank !== first.rank || t.shape.some((d, j) => d !== first.shape[j])) mismatch(i, '; every sample must have the same shape');
    });
    return stack(items as Tensor[], 0);
  }
  if (typeof first === 'number') {
    items.forEach((v, i) => typeof v !== 'number' && mismatch(i, ''));
    const nums = items as number[];
    const ints = nums.every((v) => Number.isInteger(v) && v >= -(2 ** 31) && v < 2 ** 31);
    return ints ? tensor(Int32Array.from(nums)) : tensor(Float32Array.from(nums));
  }
  if (typeof first === 'boolean') {
    items.forEach((v, i) => typeof v !== 'boolean' && mismatch(i, ''));
    return tensor(items as boolean[]);
  }
  if (typeof first === 'string') {
    items.forEach((v, i) => typeof v !== 'string' && mismatch(i, ''));
    return [...(items as string[])];
  }
  if (Array.isArray(first)) {
    items.forEach((v, i) => (!Array.isArray(v) || v.length !== first.length) && mismatch(i, ''));
    return first.map((_, j) => collate(items.map((v) => (v as unknown[])[j]), `item ${j} of ${path}`));
  }
  if (first !== null && typeof first === 'object' && Object.getPrototypeOf(first) === Object.prototype) {
    const keys = Object.keys(first);
    items.forEach((v, i) => {
      const ks = v !== null && typeof v === 'object' ? Object.keys(v) : [];
      if (ks.length !== keys.length || ks.some((k) => !(k in (first as object)))) mismatch(i, '');
    });
    return Object.fromEntries(keys.map((k) => [k, collate(items.map((v) => (v as Record<string, unknown>)[k]), `field "${k}" of ${path}`)]));
  }
  throw new Error(`defaultCollate: cannot collate ${describe(first)}; pass a collate function`);
}

/**
 * Argument checks shared by optimizers, schedules, clipping and the loss scaler. Each throws an
 * Error whose message names the owner (`Adam`, `StepLR`…), the argument and the value received.
 */

const show = (v: unknown): string => (typeof v === 'string' ? `'${v}'` : Array.isArray(v) ? `[${v.join(', ')}]` : String(v));

/** A finite number ≥ 0. */
export function nonNegative(owner: string, name: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) throw new Error(`${owner}: ${name} must be a non-negative finite number, got ${show(v)}`);
  return v;
}

/** A finite number > 0. */
export function positive(owner: string, name: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) throw new Error(`${owner}: ${name} must be a positive finite number, got ${show(v)}`);
  return v;
}

/** Any finite number. */
export function finite(owner: string, name: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new Error(`${owner}: ${name} must be a finite number, got ${show(v)}`);
  return v;
}

/** A number in [lo, hi) (or [lo, hi] when `closed`). */
export function inRange(owner: string, name: string, v: unknown, lo: number, hi: number, closed = false): number {
  const ok = typeof v === 'number' && v >= lo && (closed ? v <= hi : v < hi);
  if (!ok) throw new Error(`${owner}: ${name} must be in [${lo}, ${hi}${closed ? ']' : ')'}, got ${show(v)}`);
  return v as number;
}

/** An integer ≥ `min`. */
export function integer(owner: string, name: string, v: unknown, min: number): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min) {
    throw new Error(`${owner}: ${name} must be an integer ≥ ${min}, got ${show(v)}`);
  }
  return v;
}

/** true or false. */
export function boolean(owner: string, name: string, v: unknown): boolean {
  if (typeof v !== 'boolean') throw new Error(`${owner}: ${name} must be true or false, got ${show(v)}`);
  return v;
}

/** One of a few strings. */
export function oneOf<T extends string>(owner: string, name: string, v: unknown, options: readonly T[]): T {
  if (!options.includes(v as T)) throw new Error(`${owner}: ${name} must be one of ${options.map((o) => `'${o}'`).join(', ')}, got ${show(v)}`);
  return v as T;
}

/** Rejects keys of `opts` that are not in `known` (catches typos such as `momentun`). */
export function knownKeys(owner: string, where: string, opts: object, known: readonly string[]): void {
  const unknown = Object.keys(opts).filter((k) => !known.includes(k));
  if (unknown.length) {
    throw new Error(`${owner}: unknown option${unknown.length > 1 ? 's' : ''} ${unknown.map((k) => `'${k}'`).join(', ')} in ${where} (known: ${known.join(', ')})`);
  }
}

/** `(2, 3)`, as @ml/tensor prints shapes. */
export const fmtShape = (shape: readonly number[]): string => `(${shape.join(', ')}${shape.length === 1 ? ',' : ''})`;

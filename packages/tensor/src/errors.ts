/** An error raised by an op; its message starts with the op's name. */
export class TensorError extends Error {
  readonly op: string;
  constructor(op: string, message: string) {
    super(`${op}: ${message}`);
    this.name = 'TensorError';
    this.op = op;
  }
}

/** Throws a {@link TensorError} for `op`. */
export function fail(op: string, message: string): never {
  throw new TensorError(op, message);
}

/** Formats a shape as `(2, 3)`; a scalar is `()`. */
export function fmt(shape: readonly number[]): string {
  return `(${shape.join(', ')}${shape.length === 1 ? ',' : ''})`;
}

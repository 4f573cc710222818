/**
 * Dense linear-algebra solvers and decompositions: cholesky, triangularSolve, solve, inv, qr,
 * eigh and svd.
 *
 * Every function works on the last two dims and batches over the leading ones. Inputs must be
 * float32 or float64 (integers are rejected rather than silently cast); results have the input's
 * dtype, although backends may compute in higher precision (the CPU backend uses float64).
 */
import type { DType } from '../dtype.js';
import { allocArray, isFloat } from '../dtype.js';
import { apply, apply1, fromArray } from '../engine.js';
import { fail, fmt, TensorError } from '../errors.js';
import { broadcastShapes, shapesEqual, sizeOf } from '../shape.js';
import type { Tensor } from '../tensor.js';

/** Options of {@link triangularSolve}. */
export interface TriangularSolveOptions {
  /** Whether `a` is lower triangular (true) or upper triangular (false). Only that triangle is read. */
  lower: boolean;
  /** Solve Aᵀ X = B instead of A X = B (default false). */
  transpose?: boolean;
  /** Take the diagonal of `a` as all ones without reading it (default false). */
  unitDiagonal?: boolean;
}

/** Result of {@link qr}: A = Q R. */
export interface QrResult {
  /** (..., m, k), orthonormal columns. */
  q: Tensor;
  /** (..., k, n), upper triangular with a non-negative diagonal. */
  r: Tensor;
}

/** Result of {@link eigh}: A = V diag(w) Vᵀ. */
export interface EighResult {
  /** Eigenvalues w, (..., n), ascending. */
  values: Tensor;
  /** Eigenvectors V, (..., n, n), as columns. */
  vectors: Tensor;
}

/** Result of {@link svd}: A = U diag(S) Vt. */
export interface SvdResult {
  /** Left singular vectors, (..., m, k), orthonormal columns. */
  u: Tensor;
  /** Singular values, (..., k), descending and non-negative. */
  s: Tensor;
  /** Right singular vectors as rows, (..., k, n). */
  vt: Tensor;
}

/**
 * The Cholesky factor of a symmetric positive-definite matrix.
 *
 * Returns the lower-triangular L with a positive diagonal such that A = L Lᵀ; the part of L above
 * the diagonal is zero. Only the lower triangle of `a` is read (the upper one is assumed to mirror
 * it).
 *
 * Args:
 * - `a`: symmetric positive-definite matrices, float32 or float64.
 *
 * Shape: `a` (..., n, n) → L (..., n, n).
 *
 * Throws if a matrix is not positive definite (the message names the batch item and pivot).
 *
 * @example
 * ```ts
 * const a = tensor([[4, 2], [2, 3]], { dtype: 'float64' });
 * cholesky(a).arraySync(); // [[2, 0], [1, 1.4142135623730951]]
 * ```
 */
export function cholesky(a: Tensor): Tensor {
  return apply1('cholesky', [a]);
}

/**
 * Solves op(A) X = B for triangular A, where op(A) is A or Aᵀ, by forward or back substitution.
 *
 * Args:
 * - `a`: triangular matrices; only the triangle named by `opts.lower` is read.
 * - `b`: right-hand sides; a `b` with one dim fewer than `a` is a (batch of) vector(s).
 * - `opts`: `lower` (required), `transpose` (solve with Aᵀ), `unitDiagonal` (assume ones on the
 *   diagonal).
 *
 * Shape: `a` (..., n, n), `b` (..., n, p) or (..., n) → X with the shape of `b`. Batch dims
 * broadcast.
 *
 * Throws if a diagonal entry used is zero.
 *
 * @example
 * ```ts
 * const l = tensor([[2, 0], [1, 4]], { dtype: 'float64' });
 * triangularSolve(l, tensor([2, 9], { dtype: 'float64' }), { lower: true }).arraySync(); // [1, 2]
 * ```
 */
export function triangularSolve(a: Tensor, b: Tensor, opts: TriangularSolveOptions): Tensor {
  const op = 'triangularSolve';
  if (typeof opts?.lower !== 'boolean') fail(op, 'opts.lower must be true or false');
  const params = { lower: opts.lower, transpose: opts.transpose ?? false, unitDiagonal: opts.unitDiagonal ?? false };
  return solveLinearSystem(op, a, b, params);
}

/**
 * Solves the linear system A X = B for square A, by LU decomposition with partial pivoting.
 *
 * Args:
 * - `a`: square coefficient matrices, float32 or float64.
 * - `b`: right-hand sides of the same dtype; a `b` with one dim fewer than `a` is a (batch of)
 *   vector(s).
 *
 * Shape: `a` (..., n, n), `b` (..., n, p) or (..., n) → X with the shape of `b`. Batch dims
 * broadcast.
 *
 * Throws if A is singular to working precision (a pivot is 0 or below n·eps·max|A|, with eps the
 * unit roundoff of the dtype).
 *
 * @example
 * ```ts
 * const a = tensor([[3, 1], [1, 2]], { dtype: 'float64' });
 * solve(a, tensor([9, 8], { dtype: 'float64' })).arraySync(); // [2, 3]
 * ```
 */
export function solve(a: Tensor, b: Tensor): Tensor {
  return solveLinearSystem('solve', a, b, {});
}

/**
 * The inverse A⁻¹ of square matrices, computed as the solution of A X = I.
 *
 * Prefer {@link solve} when the inverse is only needed to multiply by: it is faster and more
 * accurate.
 *
 * Args:
 * - `a`: square, non-singular matrices, float32 or float64.
 *
 * Shape: `a` (..., n, n) → A⁻¹ (..., n, n).
 *
 * @example
 * ```ts
 * const a = tensor([[2, 0], [0, 4]], { dtype: 'float64' });
 * inv(a).arraySync(); // [[0.5, 0], [0, 0.25]]
 * ```
 */
export function inv(a: Tensor): Tensor {
  const op = 'inv';
  checkFloat(op, a);
  if (a.shape.length < 2 || a.shape[a.shape.length - 1] !== a.shape[a.shape.length - 2]) {
    fail(op, `a must be square in its last two dims, got ${fmt(a.shape)}`);
  }
  const eye = batchedIdentity(op, a.shape, a.dtype, a);
  try {
    return apply1('solve', [a, eye]);
  } catch (err) {
    if (err instanceof TensorError && err.op === 'solve') fail(op, err.message.slice('solve: '.length));
    throw err;
  } finally {
    eye.dispose();
  }
}

/**
 * Reduced QR decomposition by Householder reflections: A = Q R with Q's columns orthonormal
 * (QᵀQ = I) and R upper triangular (upper trapezoidal when m < n).
 *
 * The signs are chosen so that R's diagonal is non-negative, which makes Q and R unique when A
 * has full rank.
 *
 * Args:
 * - `a`: any matrices, float32 or float64.
 *
 * Shape: `a` (..., m, n) → Q (..., m, k), R (..., k, n) with k = min(m, n).
 *
 * @example
 * ```ts
 * const a = tensor([[3, 1], [4, 2]], { dtype: 'float64' });
 * const { q, r } = qr(a);
 * q.arraySync(); // ≈ [[0.6, -0.8], [0.8, 0.6]]
 * r.arraySync(); // ≈ [[5, 2.2], [0, 0.4]]
 * q.matmul(r);   // ≈ a
 * ```
 */
export function qr(a: Tensor): QrResult {
  const [q, r] = apply('qr', [a]);
  return { q, r };
}

/**
 * Eigen-decomposition of symmetric matrices: A = V diag(w) Vᵀ with V orthogonal (VᵀV = I).
 *
 * Eigenvalues are ascending (as `numpy.linalg.eigh`); eigenvector i is column i of V. Each
 * eigenvector's sign is chosen so that its largest-magnitude component (the first one, on a tie) is
 * positive. Eigenvectors of repeated eigenvalues are an arbitrary orthonormal basis of their
 * eigenspace. Only the lower triangle of `a` is read. A matrix with a NaN or infinite entry gives
 * all-NaN results.
 *
 * Args:
 * - `a`: symmetric matrices, float32 or float64.
 *
 * Shape: `a` (..., n, n) → values (..., n), vectors (..., n, n).
 *
 * @example
 * ```ts
 * const { values, vectors } = eigh(tensor([[2, 1], [1, 2]], { dtype: 'float64' }));
 * values.arraySync();  // [1, 3]
 * vectors.arraySync(); // ≈ [[0.7071, 0.7071], [-0.7071, 0.7071]]
 * ```
 */
export function eigh(a: Tensor): EighResult {
  const [values, vectors] = apply('eigh', [a]);
  return { values, vectors };
}

/**
 * Reduced singular value decomposition: A = U diag(S) Vt, with U's columns and Vt's rows
 * orthonormal and S non-negative and descending.
 *
 * Each pair (column j of U, row j of Vt) is only defined up to a common sign; it is chosen so
 * that the largest-magnitude component of U's column j (the first one, on a tie) is positive.
 * When A is rank-deficient, the columns of U for zero singular values are completed to an
 * orthonormal set. A matrix with a NaN or infinite entry gives all-NaN results.
 *
 * Args:
 * - `a`: any matrices, float32 or float64.
 *
 * Shape: `a` (..., m, n) → U (..., m, k), S (..., k), Vt (..., k, n) with k = min(m, n).
 *
 * @example
 * ```ts
 * const { u, s, vt } = svd(tensor([[3, 0], [0, -2]], { dtype: 'float64' }));
 * s.arraySync();  // [3, 2]
 * u.arraySync();  // [[1, 0], [0, 1]]
 * vt.arraySync(); // [[1, 0], [0, -1]]
 * ```
 */
export function svd(a: Tensor): SvdResult {
  const [u, s, vt] = apply('svd', [a]);
  return { u, s, vt };
}

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

function checkFloat(op: string, a: Tensor): void {
  if (!isFloat(a.dtype)) fail(op, `a must be float32 or float64, got ${a.dtype}`);
}

/**
 * Runs `solve` or `triangularSolve` after making `b` a matrix (a vector b of shape (..., n)
 * becomes (..., n, 1)) and broadcasting the batch dims of `a` and `b`; the result has b's shape.
 */
function solveLinearSystem(op: string, a: Tensor, b: Tensor, params: Record<string, unknown>): Tensor {
  const temps: Tensor[] = [];
  try {
    const isVector = a.shape.length >= 2 && b.shape.length === a.shape.length - 1;
    const bMatrix = isVector ? b.reshape([...b.shape, 1]) : b;
    if (bMatrix !== b) temps.push(bMatrix);
    const [aBatched, bBatched] = broadcastBatch(op, a, bMatrix);
    if (aBatched !== a) temps.push(aBatched);
    if (bBatched !== bMatrix) temps.push(bBatched);
    const x = apply1(op, [aBatched, bBatched], params);
    if (!isVector) return x;
    temps.push(x);
    return x.reshape(x.shape.slice(0, -1));
  } finally {
    for (const t of temps) t.dispose();
  }
}

/** `a` and `b` broadcast to common batch dims (their last two dims are kept). */
function broadcastBatch(op: string, a: Tensor, b: Tensor): [Tensor, Tensor] {
  if (a.shape.length < 2 || b.shape.length < 2) return [a, b]; // the primitive rule reports it
  const batchA = a.shape.slice(0, -2);
  const batchB = b.shape.slice(0, -2);
  if (shapesEqual(batchA, batchB)) return [a, b];
  const batch = broadcastShapes(op, batchA, batchB);
  const expand = (t: Tensor, own: readonly number[]): Tensor =>
    shapesEqual(own, batch) ? t : t.broadcastTo([...batch, ...t.shape.slice(-2)]);
  return [expand(a, batchA), expand(b, batchB)];
}

/** A batch of identity matrices of shape (..., n, n), on `like`'s backend. */
function batchedIdentity(op: string, shape: readonly number[], dtype: DType, like: Tensor): Tensor {
  const n = shape[shape.length - 1];
  const data = allocArray(dtype, sizeOf(shape));
  for (let start = 0; start < data.length; start += n * n) {
    for (let i = 0; i < n; i++) data[start + i * n + i] = 1;
  }
  return fromArray(op, data, shape, dtype, like.backend);
}

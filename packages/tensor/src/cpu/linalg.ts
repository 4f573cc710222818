/**
 * Dense linear-algebra kernels for the CPU backend: cholesky, triangularSolve, solve, qr, eigh and
 * svd.
 *
 * Every kernel works on a batch of matrices stored in the last two dims of its inputs (the front
 * end has already made the batch dims of all inputs equal). Each matrix is copied into a
 * Float64Array work buffer, so float32 tensors are computed in float64 and rounded once on output.
 * Outputs are the fresh contiguous views the engine allocates.
 *
 * Matrices are row-major throughout: element (i, j) of an m×n matrix is at `i * n + j`.
 */
import type { View } from '../backend.js';
import type { TypedArray } from '../dtype.js';
import { fail } from '../errors.js';
import type { CpuKernel } from './backend.js';
import { dense } from './strided.js';

type CpuView = View<TypedArray>;

/** Unit roundoff of float64 (2^-52). */
const EPS64 = 2 ** -52;
/** Unit roundoff of float32 (2^-23). */
const EPS32 = 2 ** -23;
/** Sweeps after which the Jacobi iterations give up (they converge in ~10 in practice). */
const MAX_SWEEPS = 100;

// ---------------------------------------------------------------------------------------------
// Batches of matrices
// ---------------------------------------------------------------------------------------------

/** A strided input seen as `count` dense row-major matrices of `rows × cols`. */
interface MatrixBatch {
  readonly data: TypedArray;
  readonly count: number;
  readonly rows: number;
  readonly cols: number;
}

function matrixBatch(v: CpuView): MatrixBatch {
  const rank = v.shape.length;
  const rows = v.shape[rank - 2];
  const cols = v.shape[rank - 1];
  let count = 1;
  for (let i = 0; i < rank - 2; i++) count *= v.shape[i];
  return { data: dense(v), count, rows, cols };
}

/** Copy of matrix `index` of the batch, as float64. */
function loadMatrix(x: MatrixBatch, index: number): Float64Array {
  const size = x.rows * x.cols;
  return Float64Array.from(x.data.subarray(index * size, (index + 1) * size));
}

/** Writes `values` as item `index` of a contiguous output whose items have `values.length` elements. */
function storeItem(out: CpuView, index: number, values: Float64Array): void {
  out.storage.set(values, index * values.length);
}

/** Whether every entry is finite (the iterative kernels give all-NaN results otherwise). */
function allFinite(a: Float64Array): boolean {
  for (const v of a) if (!Number.isFinite(v)) return false;
  return true;
}

/** The n×n identity. */
function identity(n: number): Float64Array {
  const out = new Float64Array(n * n);
  for (let i = 0; i < n; i++) out[i * n + i] = 1;
  return out;
}

/** The transpose of an m×n matrix (an n×m matrix). */
function transposed(a: Float64Array, m: number, n: number): Float64Array {
  const out = new Float64Array(m * n);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) out[j * m + i] = a[i * n + j];
  }
  return out;
}

/** Dot product of rows `p` and `q` (each of length `len`) of a row-major buffer. */
function rowDot(a: Float64Array, p: number, q: number, len: number): number {
  let s = 0;
  for (let i = 0, op = p * len, oq = q * len; i < len; i++) s += a[op + i] * a[oq + i];
  return s;
}

/**
 * Rotates rows `p` and `q` (each of length `len`) of a row-major buffer in place:
 * row_p ← c·row_p − s·row_q, row_q ← s·row_p + c·row_q.
 */
function rotateRows(a: Float64Array, p: number, q: number, len: number, c: number, s: number): void {
  for (let i = 0, op = p * len, oq = q * len; i < len; i++) {
    const x = a[op + i];
    const y = a[oq + i];
    a[op + i] = c * x - s * y;
    a[oq + i] = s * x + c * y;
  }
}

/**
 * The Jacobi rotation (c, s) that zeroes the off-diagonal of the symmetric 2×2 matrix
 * [[app, apq], [apq, aqq]]: with ζ = (aqq − app) / (2·apq), t = tan θ is the smaller root of
 * t² + 2ζt − 1 = 0, i.e. t = sign(ζ) / (|ζ| + √(1 + ζ²)), and c = 1/√(1 + t²), s = t·c.
 */
function jacobiRotation(app: number, aqq: number, apq: number): { c: number; s: number; t: number } {
  const zeta = (aqq - app) / (2 * apq);
  const t = (zeta >= 0 ? 1 : -1) / (Math.abs(zeta) + Math.hypot(1, zeta));
  const c = 1 / Math.sqrt(1 + t * t);
  return { c, s: t * c, t };
}

/** Indices 0..n-1 ordered so that `values` is ascending (or descending); ties keep index order. */
function sortedOrder(values: Float64Array, descending: boolean): number[] {
  const order = Array.from(values.keys());
  return order.sort((i, j) => (descending ? values[j] - values[i] : values[i] - values[j]) || i - j);
}

/** Index of the first entry of largest magnitude among `len` entries spaced `stride` apart. */
function argmaxAbs(a: Float64Array, start: number, len: number, stride: number): number {
  let best = 0;
  let bestAbs = -1;
  for (let i = 0; i < len; i++) {
    const v = Math.abs(a[start + i * stride]);
    if (v > bestAbs) {
      bestAbs = v;
      best = i;
    }
  }
  return best;
}

// ---------------------------------------------------------------------------------------------
// cholesky
// ---------------------------------------------------------------------------------------------

/**
 * Cholesky–Banachiewicz: for each row i and column j ≤ i,
 *   L[j][j] = √(A[j][j] − Σ_{k<j} L[j][k]²),
 *   L[i][j] = (A[i][j] − Σ_{k<j} L[i][k]·L[j][k]) / L[j][j]   (i > j).
 * Reads only the lower triangle of `a`. Returns L, or the index of the first pivot that is not
 * positive (then L is incomplete).
 */
function choleskyLower(a: Float64Array, n: number): { l: Float64Array; badPivot: number } {
  const l = new Float64Array(n * n);
  for (let j = 0; j < n; j++) {
    let d = a[j * n + j];
    for (let k = 0; k < j; k++) d -= l[j * n + k] * l[j * n + k];
    if (!(d > 0)) return { l, badPivot: j };
    const ljj = Math.sqrt(d);
    l[j * n + j] = ljj;
    for (let i = j + 1; i < n; i++) {
      let s = a[i * n + j];
      for (let k = 0; k < j; k++) s -= l[i * n + k] * l[j * n + k];
      l[i * n + j] = s / ljj;
    }
  }
  return { l, badPivot: -1 };
}

const cholesky: CpuKernel = ([aView], [out]) => {
  const a = matrixBatch(aView);
  for (let b = 0; b < a.count; b++) {
    const { l, badPivot } = choleskyLower(loadMatrix(a, b), a.rows);
    if (badPivot >= 0) fail('cholesky', `matrix is not positive definite (batch item ${b}, pivot ${badPivot})`);
    storeItem(out, b, l);
  }
};

// ---------------------------------------------------------------------------------------------
// triangularSolve
// ---------------------------------------------------------------------------------------------

/**
 * Solves T X = B in place (`x` holds B on entry, X on return) for an n×n triangular T and an
 * n×p right-hand side, reading only T's `lower` (or upper) triangle. Forward substitution for a
 * lower T, backward for an upper one:
 *   X[i] = (B[i] − Σ_{j before i} T[i][j]·X[j]) / T[i][i],
 * with T[i][i] taken as 1 when `unitDiagonal`. Returns the first row whose diagonal is zero, or -1.
 */
function substitute(t: Float64Array, x: Float64Array, n: number, p: number, lower: boolean, unitDiagonal: boolean): number {
  for (let step = 0; step < n; step++) {
    const i = lower ? step : n - 1 - step;
    const [from, to] = lower ? [0, i] : [i + 1, n];
    for (let j = from; j < to; j++) {
      const tij = t[i * n + j];
      if (tij === 0) continue;
      for (let c = 0; c < p; c++) x[i * p + c] -= tij * x[j * p + c];
    }
    if (unitDiagonal) continue;
    const d = t[i * n + i];
    if (d === 0) return i;
    for (let c = 0; c < p; c++) x[i * p + c] /= d;
  }
  return -1;
}

interface TriangularParams {
  lower: boolean;
  transpose?: boolean;
  unitDiagonal?: boolean;
}

const triangularSolve: CpuKernel = ([aView, bView], [out], params: TriangularParams) => {
  const a = matrixBatch(aView);
  const rhs = matrixBatch(bView);
  const n = a.rows;
  const transpose = params.transpose ?? false;
  // Solving Aᵀ X = B is solving with T = Aᵀ, whose triangle is the other one.
  const lowerT = params.lower !== transpose;
  for (let b = 0; b < a.count; b++) {
    const ab = loadMatrix(a, b);
    const t = transpose ? transposed(ab, n, n) : ab;
    const x = loadMatrix(rhs, b);
    const zeroRow = substitute(t, x, n, rhs.cols, lowerT, params.unitDiagonal ?? false);
    if (zeroRow >= 0) {
      fail('triangularSolve', `matrix is singular: zero on the diagonal (batch item ${b}, row ${zeroRow})`);
    }
    storeItem(out, b, x);
  }
};

// ---------------------------------------------------------------------------------------------
// solve
// ---------------------------------------------------------------------------------------------

function maxAbs(a: Float64Array): number {
  let m = 0;
  for (const v of a) m = Math.max(m, Math.abs(v));
  return m;
}

function swapRows(a: Float64Array, i: number, j: number, len: number): void {
  for (let c = 0; c < len; c++) {
    const tmp = a[i * len + c];
    a[i * len + c] = a[j * len + c];
    a[j * len + c] = tmp;
  }
}

/**
 * Gaussian elimination with partial pivoting on the augmented system [A | B], in place: at step k
 * the row with the largest |A[i][k]| (i ≥ k) is swapped into row k, then row k times
 * A[i][k] / A[k][k] is subtracted from every row below. Afterwards A holds U of PA = LU and B holds
 * L⁻¹PB. Returns the first step whose pivot is zero or below `tol`, or -1.
 */
function eliminate(a: Float64Array, x: Float64Array, n: number, p: number, tol: number): number {
  for (let k = 0; k < n; k++) {
    let pivotRow = k;
    for (let i = k + 1; i < n; i++) {
      if (Math.abs(a[i * n + k]) > Math.abs(a[pivotRow * n + k])) pivotRow = i;
    }
    const pivot = a[pivotRow * n + k];
    if (pivot === 0 || Math.abs(pivot) < tol) return k;
    if (pivotRow !== k) {
      swapRows(a, k, pivotRow, n);
      swapRows(x, k, pivotRow, p);
    }
    for (let i = k + 1; i < n; i++) {
      const f = a[i * n + k] / pivot;
      if (f === 0) continue;
      a[i * n + k] = 0;
      for (let j = k + 1; j < n; j++) a[i * n + j] -= f * a[k * n + j];
      for (let c = 0; c < p; c++) x[i * p + c] -= f * x[k * p + c];
    }
  }
  return -1;
}

const solve: CpuKernel = ([aView, bView], [out]) => {
  const a = matrixBatch(aView);
  const rhs = matrixBatch(bView);
  const n = a.rows;
  // A pivot below n·eps·max|A| (eps of the input dtype) means A is singular to working precision.
  const eps = aView.dtype === 'float32' ? EPS32 : EPS64;
  for (let b = 0; b < a.count; b++) {
    const lu = loadMatrix(a, b);
    const x = loadMatrix(rhs, b);
    const badPivot = eliminate(lu, x, n, rhs.cols, n * eps * maxAbs(lu));
    if (badPivot >= 0) fail('solve', `matrix is singular (batch item ${b}, pivot ${badPivot})`);
    substitute(lu, x, n, rhs.cols, false, false);
    storeItem(out, b, x);
  }
};

// ---------------------------------------------------------------------------------------------
// qr
// ---------------------------------------------------------------------------------------------

/**
 * Reflects `target` (rows `fromRow`.. of an r×c row-major matrix, columns `fromCol`..) by the
 * Householder reflector H = I − 2vvᵀ, where unit vector v (length r − fromRow) is stored at
 * `v[fromRow..]`: each column y becomes y − 2v(vᵀy).
 */
function reflect(v: Float64Array, target: Float64Array, r: number, c: number, fromRow: number, fromCol: number): void {
  for (let j = fromCol; j < c; j++) {
    let dot = 0;
    for (let i = fromRow; i < r; i++) dot += v[i] * target[i * c + j];
    if (dot === 0) continue;
    for (let i = fromRow; i < r; i++) target[i * c + j] -= 2 * v[i] * dot;
  }
}

/**
 * The Householder vector that maps column j of `r` (rows j..m-1) onto a multiple of e_j:
 * with x that column, α = −sign(x₀)·‖x‖ (sign chosen to avoid cancellation) and v = (x − αe₁)/‖·‖.
 * Returns a length-m buffer with v in rows j.., or undefined when the column is already zero.
 */
function householderVector(r: Float64Array, m: number, n: number, j: number): Float64Array | undefined {
  const v = new Float64Array(m);
  let norm2 = 0;
  for (let i = j; i < m; i++) {
    v[i] = r[i * n + j];
    norm2 += v[i] * v[i];
  }
  if (norm2 === 0) return undefined;
  const alpha = v[j] >= 0 ? -Math.sqrt(norm2) : Math.sqrt(norm2);
  // ‖x − αe₁‖² = ‖x‖² − 2αx₀ + α²
  const vnorm = Math.sqrt(norm2 - 2 * alpha * v[j] + alpha * alpha);
  v[j] -= alpha;
  for (let i = j; i < m; i++) v[i] /= vnorm;
  return v;
}

/**
 * Reduced Householder QR of an m×n matrix: R = H_{k-1}···H_0 A (upper trapezoidal, first k rows
 * kept) and Q = H_0···H_{k-1} applied to the first k columns of I_m, k = min(m, n). Finally each
 * i with R[i][i] < 0 has row i of R and column i of Q negated, so diag(R) ≥ 0 and the factors are
 * unique for a full-rank A.
 */
function householderQr(a: Float64Array, m: number, n: number): { q: Float64Array; r: Float64Array } {
  const k = Math.min(m, n);
  const work = a.slice();
  const reflectors: (Float64Array | undefined)[] = [];
  for (let j = 0; j < k; j++) {
    const v = householderVector(work, m, n, j);
    if (v) reflect(v, work, m, n, j, j);
    reflectors.push(v);
  }
  const q = new Float64Array(m * k);
  for (let i = 0; i < k; i++) q[i * k + i] = 1;
  for (let j = k - 1; j >= 0; j--) {
    const v = reflectors[j];
    if (v) reflect(v, q, m, k, j, 0);
  }
  const r = new Float64Array(k * n);
  for (let i = 0; i < k; i++) {
    for (let j = i; j < n; j++) r[i * n + j] = work[i * n + j];
  }
  makeDiagonalNonNegative(q, r, m, n, k);
  return { q, r };
}

function makeDiagonalNonNegative(q: Float64Array, r: Float64Array, m: number, n: number, k: number): void {
  for (let i = 0; i < k; i++) {
    if (!(r[i * n + i] < 0)) continue;
    for (let j = i; j < n; j++) r[i * n + j] = -r[i * n + j]; // left of the diagonal is 0
    for (let row = 0; row < m; row++) q[row * k + i] = -q[row * k + i];
  }
}

const qr: CpuKernel = ([aView], [qOut, rOut]) => {
  const a = matrixBatch(aView);
  for (let b = 0; b < a.count; b++) {
    const { q, r } = householderQr(loadMatrix(a, b), a.rows, a.cols);
    storeItem(qOut, b, q);
    storeItem(rOut, b, r);
  }
};

// ---------------------------------------------------------------------------------------------
// eigh
// ---------------------------------------------------------------------------------------------

/** Sum of squares of the strictly upper part of an n×n matrix, and of all its entries. */
function offAndTotal(a: Float64Array, n: number): { off: number; total: number } {
  let off = 0;
  let total = 0;
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      const v = a[i * n + j] * a[i * n + j];
      total += v;
      if (j > i) off += v;
    }
  }
  return { off, total };
}

/**
 * Cyclic Jacobi for a symmetric n×n matrix `a` (modified in place, ends diagonal): sweeps over
 * all pairs p < q, applying A ← JᵀAJ with the rotation J that zeroes A[p][q], and accumulating
 * V ← VJ, until the off-diagonal Frobenius norm is below eps·‖A‖_F. Then A = V diag(a) Vᵀ.
 * Returns Vᵀ (row i = eigenvector i), which makes the rotations row operations.
 */
function jacobiEigen(a: Float64Array, n: number): Float64Array {
  const vt = identity(n);
  for (let sweep = 0; sweep < MAX_SWEEPS; sweep++) {
    const { off, total } = offAndTotal(a, n);
    if (!(off > EPS64 * EPS64 * total)) break;
    for (let p = 0; p < n - 1; p++) {
      for (let q = p + 1; q < n; q++) {
        const apq = a[p * n + q];
        if (apq === 0) continue;
        const { c, s, t } = jacobiRotation(a[p * n + p], a[q * n + q], apq);
        rotateSymmetric(a, n, p, q, c, s, t);
        rotateRows(vt, p, q, n, c, s); // Vᵀ ← JᵀVᵀ
      }
    }
  }
  return vt;
}

/**
 * A ← JᵀAJ for the Jacobi rotation (c, s, t = s/c) that zeroes A[p][q], keeping A symmetric. In
 * the forms that round best (Numerical Recipes §11.1), with τ = s / (1 + c):
 *   A[p][p] −= t·A[p][q],  A[q][q] += t·A[p][q],  A[p][q] = 0, and for every other r
 *   A[r][p] ← g − s(h + gτ),  A[r][q] ← h + s(g − hτ)   where g = A[r][p], h = A[r][q].
 */
function rotateSymmetric(a: Float64Array, n: number, p: number, q: number, c: number, s: number, t: number): void {
  const apq = a[p * n + q];
  const tau = s / (1 + c);
  a[p * n + p] -= t * apq;
  a[q * n + q] += t * apq;
  a[p * n + q] = 0;
  a[q * n + p] = 0;
  for (let r = 0; r < n; r++) {
    if (r === p || r === q) continue;
    const g = a[r * n + p];
    const h = a[r * n + q];
    const rp = g - s * (h + g * tau);
    const rq = h + s * (g - h * tau);
    a[r * n + p] = rp;
    a[p * n + r] = rp;
    a[r * n + q] = rq;
    a[q * n + r] = rq;
  }
}

/** The symmetric matrix whose lower triangle is that of `a` (the upper triangle is ignored). */
function symmetricFromLower(a: Float64Array, n: number): Float64Array {
  const out = a.slice();
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) out[i * n + j] = a[j * n + i];
  }
  return out;
}

/**
 * Eigen-decomposition A = V diag(w) Vᵀ of a symmetric matrix: w ascending, eigenvectors as the
 * columns of V, each with the sign that makes its first largest-magnitude component positive.
 * A matrix with a NaN or infinite entry gives all-NaN results.
 */
function symmetricEigen(a: Float64Array, n: number): { values: Float64Array; vectors: Float64Array } {
  const d = symmetricFromLower(a, n);
  if (!allFinite(d)) return { values: new Float64Array(n).fill(NaN), vectors: new Float64Array(n * n).fill(NaN) };
  const vt = jacobiEigen(d, n);
  const diagonal = Float64Array.from({ length: n }, (_, i) => d[i * n + i]);
  const order = sortedOrder(diagonal, false);
  const values = new Float64Array(n);
  const vectors = new Float64Array(n * n);
  order.forEach((src, col) => {
    values[col] = diagonal[src];
    const sign = vt[src * n + argmaxAbs(vt, src * n, n, 1)] < 0 ? -1 : 1;
    for (let i = 0; i < n; i++) vectors[i * n + col] = sign * vt[src * n + i];
  });
  return { values, vectors };
}

const eigh: CpuKernel = ([aView], [valuesOut, vectorsOut]) => {
  const a = matrixBatch(aView);
  for (let b = 0; b < a.count; b++) {
    const { values, vectors } = symmetricEigen(loadMatrix(a, b), a.rows);
    storeItem(valuesOut, b, values);
    storeItem(vectorsOut, b, vectors);
  }
};

// ---------------------------------------------------------------------------------------------
// svd
// ---------------------------------------------------------------------------------------------

/**
 * One-sided Jacobi (Hestenes) on the k columns of a tall len×k matrix M, given as the rows of `w`
 * (k rows of length `len`, modified in place). Each rotation of a pair of columns (p, q) is the
 * Jacobi rotation of their Gram matrix [[α, γ], [γ, β]] (α = ‖m_p‖², β = ‖m_q‖², γ = m_p·m_q), which
 * makes them orthogonal; sweeps repeat until every pair has |γ| ≤ tol·√(αβ). Then M V = W with
 * orthogonal columns, so M = U diag(σ) Vᵀ with σ_j = ‖w_j‖ and u_j = w_j / σ_j.
 * Returns Vᵀ (k×k, row j = right singular vector j).
 */
function hestenesJacobi(w: Float64Array, k: number, len: number): Float64Array {
  const vt = identity(k);
  const tol = Math.max(len, 1) * EPS64;
  for (let sweep = 0; sweep < MAX_SWEEPS; sweep++) {
    let rotated = false;
    for (let p = 0; p < k - 1; p++) {
      for (let q = p + 1; q < k; q++) {
        const alpha = rowDot(w, p, p, len);
        const beta = rowDot(w, q, q, len);
        const gamma = rowDot(w, p, q, len);
        if (!(Math.abs(gamma) > tol * Math.sqrt(alpha * beta))) continue;
        const { c, s } = jacobiRotation(alpha, beta, gamma);
        rotateRows(w, p, q, len, c, s);
        rotateRows(vt, p, q, k, c, s);
        rotated = true;
      }
    }
    if (!rotated) break;
  }
  return vt;
}

/** Subtracts from `v` its components along the given orthonormal rows of `u` (rows of length len). */
function projectOut(v: Float64Array, u: Float64Array, rows: readonly number[], len: number): void {
  for (const i of rows) {
    const dot = rowDotVector(u, i, v, len);
    for (let t = 0; t < len; t++) v[t] -= dot * u[i * len + t];
  }
}

function rowDotVector(u: Float64Array, row: number, v: Float64Array, len: number): number {
  let s = 0;
  for (let t = 0; t < len; t++) s += u[row * len + t] * v[t];
  return s;
}

/**
 * Replaces the rows of `u` marked `zero` (k rows of length len ≥ k; the others orthonormal) by unit
 * vectors orthogonal to all other rows, so U stays orthonormal when A is rank-deficient. The
 * candidates are e_0, e_1, ... made orthogonal by Gram–Schmidt (twice, for accuracy); one whose
 * remainder keeps a norm above 1/2 is independent enough to use.
 */
function completeOrthonormalRows(u: Float64Array, k: number, len: number, zero: readonly boolean[]): void {
  const orthonormal = Array.from({ length: k }, (_, i) => i).filter((i) => !zero[i]);
  let candidate = 0;
  for (let j = 0; j < k; j++) {
    if (!zero[j]) continue;
    for (; candidate < len; candidate++) {
      const v = new Float64Array(len);
      v[candidate] = 1;
      projectOut(v, u, orthonormal, len);
      projectOut(v, u, orthonormal, len);
      const norm = Math.sqrt(rowDotVector(v, 0, v, len));
      if (norm <= 0.5) continue;
      for (let t = 0; t < len; t++) u[j * len + t] = v[t] / norm;
      orthonormal.push(j);
      candidate++;
      break;
    }
  }
}

/**
 * SVD of a tall len×k matrix M given by its columns (rows of `cols`): returns σ (descending),
 * the left singular vectors as rows (k×len) and the right ones as rows (k×k).
 */
function tallSvd(cols: Float64Array, k: number, len: number): { sigma: Float64Array; left: Float64Array; right: Float64Array } {
  const vt = hestenesJacobi(cols, k, len);
  const norms = Float64Array.from({ length: k }, (_, j) => Math.sqrt(rowDot(cols, j, j, len)));
  const order = sortedOrder(norms, true);
  const sigma = new Float64Array(k);
  const left = new Float64Array(k * len);
  const right = new Float64Array(k * k);
  const zero: boolean[] = [];
  order.forEach((src, j) => {
    sigma[j] = norms[src];
    zero.push(!(norms[src] > 0));
    for (let t = 0; t < len; t++) left[j * len + t] = zero[j] ? 0 : cols[src * len + t] / norms[src];
    right.set(vt.subarray(src * k, (src + 1) * k), j * k);
  });
  completeOrthonormalRows(left, k, len, zero);
  return { sigma, left, right };
}

/**
 * Reduced SVD A = U diag(S) Vt of an m×n matrix, k = min(m, n). A tall A (m ≥ n) is
 * orthogonalized by columns; a wide A through its transpose (Aᵀ = U' S V'ᵀ gives U = V', Vt = U'ᵀ).
 * Signs: each pair (u_j, v_j) is flipped so that u_j's first largest-magnitude component is positive.
 * A matrix with a NaN or infinite entry gives all-NaN results.
 */
function reducedSvd(a: Float64Array, m: number, n: number): { u: Float64Array; s: Float64Array; vt: Float64Array } {
  const k = Math.min(m, n);
  if (!allFinite(a)) {
    return { u: new Float64Array(m * k).fill(NaN), s: new Float64Array(k).fill(NaN), vt: new Float64Array(k * n).fill(NaN) };
  }
  const tall = m >= n;
  // Columns of the tall matrix (A or Aᵀ) as rows: the columns of A are the rows of Aᵀ.
  const cols = tall ? transposed(a, m, n) : a.slice();
  const { sigma, left, right } = tallSvd(cols, k, tall ? m : n);
  // Row j of `left` is u_j (tall) or v_j (wide); row j of `right` is v_j (tall) or u_j (wide).
  const uRows = tall ? left : right;
  const vt = tall ? right : left;
  const u = transposed(uRows, k, m);
  fixSvdSigns(u, vt, m, n, k);
  return { u, s: sigma, vt };
}

function fixSvdSigns(u: Float64Array, vt: Float64Array, m: number, n: number, k: number): void {
  for (let j = 0; j < k; j++) {
    const i = argmaxAbs(u, j, m, k);
    if (!(u[i * k + j] < 0)) continue;
    for (let r = 0; r < m; r++) u[r * k + j] = -u[r * k + j];
    for (let c = 0; c < n; c++) vt[j * n + c] = -vt[j * n + c];
  }
}

const svd: CpuKernel = ([aView], [uOut, sOut, vtOut]) => {
  const a = matrixBatch(aView);
  for (let b = 0; b < a.count; b++) {
    const { u, s, vt } = reducedSvd(loadMatrix(a, b), a.rows, a.cols);
    storeItem(uOut, b, u);
    storeItem(sOut, b, s);
    storeItem(vtOut, b, vt);
  }
};

/** The linear-algebra kernels, keyed by primitive name. */
export const LINALG_KERNELS: Record<string, CpuKernel> = {
  cholesky,
  triangularSolve,
  solve,
  qr,
  eigh,
  svd,
};

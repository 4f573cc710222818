import { describe, expect, it } from 'vitest';
import type { View } from '../src/backend.js';
import { LINALG_KERNELS } from '../src/cpu/linalg.js';
import type { DType, TypedArray } from '../src/dtype.js';
import { allocArray } from '../src/dtype.js';
import { PRIMITIVES } from '../src/primitives.js';
import { contiguousStrides, sizeOf } from '../src/shape.js';
import { cholesky, eigh, inv, memory, qr, solve, svd, tensor, triangularSolve } from '../src/index.js';
import type { Tensor } from '../src/index.js';

// ---------------------------------------------------------------------------------------------
// Deterministic random matrices and small dense helpers (row-major, float64)
// ---------------------------------------------------------------------------------------------

/** mulberry32: a tiny seeded generator of uniform numbers in [0, 1). */
function mulberry32(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** `count` entries uniform in [-1, 1). */
function randomValues(rng: () => number, count: number): Float64Array {
  return Float64Array.from({ length: count }, () => 2 * rng() - 1);
}

function matmul(a: ArrayLike<number>, b: ArrayLike<number>, m: number, k: number, n: number): Float64Array {
  const out = new Float64Array(m * n);
  for (let i = 0; i < m; i++) {
    for (let p = 0; p < k; p++) {
      const aip = a[i * k + p];
      for (let j = 0; j < n; j++) out[i * n + j] += aip * b[p * n + j];
    }
  }
  return out;
}

function transpose(a: ArrayLike<number>, m: number, n: number): Float64Array {
  const out = new Float64Array(m * n);
  for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) out[j * m + i] = a[i * n + j];
  return out;
}

function eye(n: number): Float64Array {
  const out = new Float64Array(n * n);
  for (let i = 0; i < n; i++) out[i * n + i] = 1;
  return out;
}

/** A symmetric positive-definite n×n matrix M Mᵀ + n·I. */
function randomSpd(rng: () => number, n: number): Float64Array {
  const m = randomValues(rng, n * n);
  const out = matmul(m, transpose(m, n, n), n, n, n);
  for (let i = 0; i < n; i++) out[i * n + i] += n;
  return out;
}

/** A symmetric n×n matrix (M + Mᵀ) / 2. */
function randomSymmetric(rng: () => number, n: number): Float64Array {
  const m = randomValues(rng, n * n);
  const mt = transpose(m, n, n);
  return m.map((v, i) => (v + mt[i]) / 2);
}

/** Matrix `index` of a batch of matrices with `size` elements each. */
function item(data: ArrayLike<number>, index: number, size: number): Float64Array {
  return Float64Array.from({ length: size }, (_, i) => data[index * size + i]);
}

function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let d = 0;
  for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i] - b[i]));
  return d;
}

function expectClose(actual: ArrayLike<number>, expected: ArrayLike<number>, tol: number): void {
  expect(maxDiff(actual, expected)).toBeLessThanOrEqual(tol);
}

/** Absolute tolerances for results of O(1) magnitude, per dtype. */
const TOL: Record<'float32' | 'float64', number> = { float32: 2e-5, float64: 1e-12 };
const FLOATS = ['float64', 'float32'] as const;

// ---------------------------------------------------------------------------------------------
// Running kernels directly on views
// ---------------------------------------------------------------------------------------------

type CpuView = View<TypedArray>;

function contiguousView(data: ArrayLike<number>, shape: readonly number[], dtype: DType): CpuView {
  const storage = allocArray(dtype, sizeOf(shape));
  storage.set(Array.from(data));
  return { storage, dtype, shape, strides: contiguousStrides(shape), offset: 0 };
}

interface Input {
  data: ArrayLike<number> | CpuView;
  shape: readonly number[];
}

/** Validates with the primitive rule, allocates the outputs and runs the kernel. */
function runKernel(op: string, inputs: Input[], dtype: DType, params: object = {}): { data: TypedArray; shape: readonly number[] }[] {
  const views = inputs.map((x) => ('storage' in x.data ? x.data : contiguousView(x.data, x.shape, dtype)));
  const metas = PRIMITIVES[op](op, views, params);
  const outputs = metas.map((m) => contiguousView([], m.shape, m.dtype));
  LINALG_KERNELS[op](views, outputs, params);
  return outputs.map((o) => ({ data: o.storage, shape: o.shape }));
}

// ---------------------------------------------------------------------------------------------
// Reconstruction checks shared by the kernel and op tests
// ---------------------------------------------------------------------------------------------

function checkCholesky(a: Float64Array, l: ArrayLike<number>, n: number, tol: number): void {
  for (let i = 0; i < n; i++) {
    expect(l[i * n + i]).toBeGreaterThan(0);
    for (let j = i + 1; j < n; j++) expect(l[i * n + j]).toBe(0);
  }
  expectClose(matmul(l, transpose(l, n, n), n, n, n), a, tol);
}

function checkOrthonormalColumns(q: ArrayLike<number>, m: number, k: number, tol: number): void {
  expectClose(matmul(transpose(q, m, k), q, k, m, k), eye(k), tol);
}

function checkQr(a: Float64Array, q: ArrayLike<number>, r: ArrayLike<number>, m: number, n: number, tol: number): void {
  const k = Math.min(m, n);
  checkOrthonormalColumns(q, m, k, tol);
  for (let i = 0; i < k; i++) {
    expect(r[i * n + i]).toBeGreaterThanOrEqual(0);
    for (let j = 0; j < Math.min(i, n); j++) expect(r[i * n + j]).toBe(0);
  }
  expectClose(matmul(q, r, m, k, n), a, tol);
}

function checkEigh(a: Float64Array, w: ArrayLike<number>, v: ArrayLike<number>, n: number, tol: number): void {
  for (let i = 1; i < n; i++) expect(w[i]).toBeGreaterThanOrEqual(w[i - 1]);
  checkOrthonormalColumns(v, n, n, tol);
  const vw = Float64Array.from({ length: n * n }, (_, i) => v[i] * w[i % n]);
  expectClose(matmul(vw, transpose(v, n, n), n, n, n), a, tol);
  for (let j = 0; j < n; j++) expect(largestOfColumn(v, n, n, j)).toBeGreaterThan(0);
}

function checkSvd(a: Float64Array, u: ArrayLike<number>, s: ArrayLike<number>, vt: ArrayLike<number>, m: number, n: number, tol: number): void {
  const k = Math.min(m, n);
  for (let i = 0; i < k; i++) expect(s[i]).toBeGreaterThanOrEqual(0);
  for (let i = 1; i < k; i++) expect(s[i]).toBeLessThanOrEqual(s[i - 1]);
  checkOrthonormalColumns(u, m, k, tol);
  checkOrthonormalColumns(transpose(vt, k, n), n, k, tol);
  const us = Float64Array.from({ length: m * k }, (_, i) => u[i] * s[i % k]);
  expectClose(matmul(us, vt, m, k, n), a, tol);
  for (let j = 0; j < k; j++) expect(largestOfColumn(u, m, k, j)).toBeGreaterThan(0);
}

/** The first largest-magnitude entry of column j of an m×k matrix (signed). */
function largestOfColumn(x: ArrayLike<number>, m: number, k: number, j: number): number {
  let best = x[j];
  for (let i = 1; i < m; i++) if (Math.abs(x[i * k + j]) > Math.abs(best)) best = x[i * k + j];
  return best;
}

// ---------------------------------------------------------------------------------------------
// Reference values from numpy.linalg (float64), with the sign conventions documented in the
// kernels applied: R's diagonal ≥ 0; eigenvectors and U's columns with their largest entry > 0.
// ---------------------------------------------------------------------------------------------

const REF = {
  cholesky: {
    a: [4, 12, -16, 12, 37, -43, -16, -43, 98],
    l: [2, 0, 0, 6, 1, 0, -8, 5, 3],
  },
  solve: {
    a: [2, -1, 0, 1, 3, 2, 0, 1, 4],
    b: [1, 2, 3],
    x: [0.5, 0, 0.75],
    inv: [
      0.4166666666666667, 0.16666666666666663, -0.08333333333333331,
      -0.16666666666666663, 0.33333333333333326, -0.16666666666666663,
      0.04166666666666666, -0.08333333333333331, 0.29166666666666663,
    ],
  },
  qr: {
    a: [1, 2, 3, 4, 5, 6], // (3, 2)
    q: [
      0.16903085094570325, 0.8970852271450607,
      0.50709255283711, 0.27602622373694136,
      0.8451542547285166, -0.345032779671177,
    ],
    r: [5.916079783099616, 7.437357441610946, 0, 0.8280786712108248],
  },
  eigh: {
    a: [4, 1, 2, 1, 3, 0, 2, 0, 5],
    w: [1.8548973087995761, 3.4760236029181333, 6.669079088282287],
    v: [
      0.6793130619863363, 0.374361954783072, 0.6311789687764832,
      -0.5932333119173852, 0.7864356987513781, 0.1720265367929077,
      -0.4319814827585529, -0.4912962635115686, 0.7563200248659909,
    ],
  },
  svdWide: {
    a: [1, 2, 3, 4, 5, 6], // (2, 3)
    u: [0.38631770311861147, 0.9223657800770585, 0.9223657800770585, -0.38631770311861147],
    s: [9.508032000695724, 0.7728696356734844],
    vt: [
      0.4286671335486262, 0.5663069188480352, 0.7039467041474442,
      -0.8059639085892978, -0.11238241409659352, 0.5811990803961099,
    ],
  },
  svdTall: {
    a: [2, 0, 1, 3, 0, -1, 1, 1], // (4, 2)
    u: [
      0.2666847160183475, 0.8993771523905938,
      0.8550902628623057, -0.2980279221114573,
      -0.24058263495104396, 0.249238832768918,
      0.3739249929602177, 0.20044974342637886,
    ],
    s: [3.6355179226663568, 1.9449959984461918],
    vt: [0.48476853239294515, 0.8746424812468179, 0.8746424812468179, -0.48476853239294515],
  },
};

// ---------------------------------------------------------------------------------------------
// Kernel tests
// ---------------------------------------------------------------------------------------------

describe('linalg kernels: reference values (numpy.linalg)', () => {
  for (const dtype of FLOATS) {
    const tol = dtype === 'float64' ? 1e-13 : 1e-6;
    it(`cholesky ${dtype}`, () => {
      const [l] = runKernel('cholesky', [{ data: REF.cholesky.a, shape: [3, 3] }], dtype);
      expectClose(l.data, REF.cholesky.l, tol * 10);
    });
    it(`solve ${dtype}`, () => {
      const [x] = runKernel('solve', [{ data: REF.solve.a, shape: [3, 3] }, { data: REF.solve.b, shape: [3, 1] }], dtype);
      expectClose(x.data, REF.solve.x, tol);
    });
    it(`qr ${dtype}`, () => {
      const [q, r] = runKernel('qr', [{ data: REF.qr.a, shape: [3, 2] }], dtype);
      expect(q.shape).toEqual([3, 2]);
      expect(r.shape).toEqual([2, 2]);
      expectClose(q.data, REF.qr.q, tol);
      expectClose(r.data, REF.qr.r, tol * 10);
    });
    it(`eigh ${dtype}`, () => {
      const [w, v] = runKernel('eigh', [{ data: REF.eigh.a, shape: [3, 3] }], dtype);
      expectClose(w.data, REF.eigh.w, tol * 10);
      expectClose(v.data, REF.eigh.v, tol);
    });
    for (const [name, ref, shape] of [['wide', REF.svdWide, [2, 3]], ['tall', REF.svdTall, [4, 2]]] as const) {
      it(`svd ${name} ${dtype}`, () => {
        const [u, s, vt] = runKernel('svd', [{ data: ref.a, shape }], dtype);
        expectClose(u.data, ref.u, tol);
        expectClose(s.data, ref.s, tol * 10);
        expectClose(vt.data, ref.vt, tol);
      });
    }
  }
});

describe('linalg kernels: random matrices', () => {
  const rng = mulberry32(20240607);

  for (const dtype of FLOATS) {
    const tol = TOL[dtype];
    /** Rounds float64 test data to the dtype, so it is the matrix the kernel actually sees. */
    const asDtype = (x: Float64Array): Float64Array => (dtype === 'float32' ? Float64Array.from(Float32Array.from(x)) : x);

    it(`cholesky reconstructs LLᵀ = A (${dtype}, batched)`, () => {
      const n = 6;
      const a = asDtype(Float64Array.from([...randomSpd(rng, n), ...randomSpd(rng, n)]));
      const [l] = runKernel('cholesky', [{ data: a, shape: [2, n, n] }], dtype);
      for (let b = 0; b < 2; b++) checkCholesky(item(a, b, n * n), item(l.data, b, n * n), n, tol * n * n);
    });

    it(`solve gives A X = B (${dtype}, batched)`, () => {
      const n = 7;
      const p = 3;
      const a = asDtype(randomValues(rng, 3 * n * n).map((v, i) => v + (i % (n * n) % (n + 1) === 0 ? 3 : 0)));
      const rhs = asDtype(randomValues(rng, 3 * n * p));
      const [x] = runKernel('solve', [{ data: a, shape: [3, n, n] }, { data: rhs, shape: [3, n, p] }], dtype);
      for (let b = 0; b < 3; b++) {
        const ax = matmul(item(a, b, n * n), item(x.data, b, n * p), n, n, p);
        expectClose(ax, item(rhs, b, n * p), tol * 10);
      }
    });

    it(`triangularSolve all variants (${dtype})`, () => {
      const n = 5;
      const p = 2;
      const full = asDtype(randomValues(rng, n * n).map((v, i) => (i % (n + 1) === 0 ? 2 + v : v)));
      const rhs = asDtype(randomValues(rng, n * p));
      for (const lower of [true, false]) {
        for (const transposeA of [false, true]) {
          for (const unitDiagonal of [false, true]) {
            const params = { lower, transpose: transposeA, unitDiagonal };
            const [x] = runKernel('triangularSolve', [{ data: full, shape: [n, n] }, { data: rhs, shape: [n, p] }], dtype, params);
            // The triangle the kernel reads, with the diagonal replaced by ones when unitDiagonal.
            const t = full.map((v, idx) => {
              const [i, j] = [Math.floor(idx / n), idx % n];
              if (i === j) return unitDiagonal ? 1 : v;
              return (lower ? i > j : i < j) ? v : 0;
            });
            const op = transposeA ? transpose(t, n, n) : t;
            expectClose(matmul(op, x.data, n, n, p), rhs, tol * 10);
          }
        }
      }
    });

    for (const [m, n] of [[6, 4], [4, 6], [5, 5], [1, 1], [1, 4], [4, 1]] as const) {
      it(`qr reconstructs A = QR (${dtype}, ${m}×${n})`, () => {
        const a = asDtype(randomValues(rng, 2 * m * n));
        const k = Math.min(m, n);
        const [q, r] = runKernel('qr', [{ data: a, shape: [2, m, n] }], dtype);
        expect(q.shape).toEqual([2, m, k]);
        expect(r.shape).toEqual([2, k, n]);
        for (let b = 0; b < 2; b++) checkQr(item(a, b, m * n), item(q.data, b, m * k), item(r.data, b, k * n), m, n, tol * 10);
      });

      it(`svd reconstructs A = U diag(S) Vt (${dtype}, ${m}×${n})`, () => {
        const a = asDtype(randomValues(rng, 2 * m * n));
        const k = Math.min(m, n);
        const [u, s, vt] = runKernel('svd', [{ data: a, shape: [2, m, n] }], dtype);
        expect([u.shape, s.shape, vt.shape]).toEqual([[2, m, k], [2, k], [2, k, n]]);
        for (let b = 0; b < 2; b++) {
          checkSvd(item(a, b, m * n), item(u.data, b, m * k), item(s.data, b, k), item(vt.data, b, k * n), m, n, tol * 10);
        }
      });
    }

    for (const n of [1, 2, 8]) {
      it(`eigh reconstructs A = V diag(w) Vᵀ (${dtype}, n=${n}, batched)`, () => {
        const a = asDtype(Float64Array.from([...randomSymmetric(rng, n), ...randomSymmetric(rng, n)]));
        const [w, v] = runKernel('eigh', [{ data: a, shape: [2, n, n] }], dtype);
        for (let b = 0; b < 2; b++) checkEigh(item(a, b, n * n), item(w.data, b, n), item(v.data, b, n * n), n, tol * 10);
      });
    }
  }

  it('svd of a rank-deficient matrix keeps U orthonormal', () => {
    // Rank 1: every row is a multiple of (1, 2, 3); also a zero matrix.
    const a = Float64Array.from([1, 2, 3, 2, 4, 6, -1, -2, -3, 0, 0, 0]);
    const [u, s, vt] = runKernel('svd', [{ data: a, shape: [4, 3] }], 'float64');
    checkSvd(a, u.data, s.data, vt.data, 4, 3, 1e-12);
    expect(s.data[1]).toBeLessThan(1e-12);
    const zero = new Float64Array(6);
    const [u0, s0, vt0] = runKernel('svd', [{ data: zero, shape: [2, 3] }], 'float64');
    checkSvd(zero, u0.data, s0.data, vt0.data, 2, 3, 1e-12);
  });

  it('eigh with repeated eigenvalues still gives an orthonormal basis', () => {
    const a = Float64Array.from([2, 0, 0, 0, 2, 0, 0, 0, 5]);
    const [w, v] = runKernel('eigh', [{ data: a, shape: [3, 3] }], 'float64');
    expectClose(w.data, [2, 2, 5], 1e-15);
    checkEigh(a, w.data, v.data, 3, 1e-14);
  });

  it('eigh and svd of a matrix with NaN give all-NaN results', () => {
    const a = [NaN, 1, 1, 1];
    const outs = [...runKernel('eigh', [{ data: a, shape: [2, 2] }], 'float64'), ...runKernel('svd', [{ data: a, shape: [2, 2] }], 'float64')];
    for (const o of outs) expect(Array.from(o.data).every(Number.isNaN)).toBe(true);
  });

  it('reads strided (non-contiguous) inputs', () => {
    // The transpose of a contiguous matrix, as a view with swapped strides.
    const n = 4;
    const a = randomSpd(rng, n).map((v, i) => v + (i % 3)); // not symmetric
    const storage = Float64Array.from(a);
    const at: CpuView = { storage, dtype: 'float64', shape: [n, n], strides: [1, n], offset: 0 };
    const rhs = randomValues(rng, n);
    const [x] = runKernel('solve', [{ data: at, shape: [n, n] }, { data: rhs, shape: [n, 1] }], 'float64');
    expectClose(matmul(transpose(a, n, n), x.data, n, n, 1), rhs, 1e-12);
  });

  it('only reads the lower triangle in cholesky and eigh', () => {
    const a = Float64Array.from(REF.eigh.a);
    const junk = a.map((v, i) => (Math.floor(i / 3) < i % 3 ? 99 : v));
    const [l1] = runKernel('cholesky', [{ data: a, shape: [3, 3] }], 'float64');
    const [l2] = runKernel('cholesky', [{ data: junk, shape: [3, 3] }], 'float64');
    expect(Array.from(l2.data)).toEqual(Array.from(l1.data));
    const [w] = runKernel('eigh', [{ data: junk, shape: [3, 3] }], 'float64');
    expectClose(w.data, REF.eigh.w, 1e-13);
  });
});

describe('linalg kernels: errors name the op', () => {
  it('cholesky: not positive definite', () => {
    const a = [1, 2, 2, 1]; // eigenvalues 3 and -1
    expect(() => runKernel('cholesky', [{ data: a, shape: [2, 2] }], 'float64')).toThrow(
      /^cholesky: matrix is not positive definite \(batch item 0, pivot 1\)/,
    );
    const batch = [...eye(2), ...a];
    expect(() => runKernel('cholesky', [{ data: batch, shape: [2, 2, 2] }], 'float32')).toThrow(/batch item 1, pivot 1/);
  });

  it('solve: singular, exactly and to working precision', () => {
    const b = { data: [1, 2, 3], shape: [3, 1] };
    const exact = [1, 2, 3, 2, 4, 6, 1, 0, 1];
    const nearly = [1, 2, 3, 4, 5, 6, 7, 8, 9]; // pivots ~1e-16 in float64
    for (const dtype of FLOATS) {
      expect(() => runKernel('solve', [{ data: exact, shape: [3, 3] }, b], dtype)).toThrow(/^solve: matrix is singular/);
      expect(() => runKernel('solve', [{ data: nearly, shape: [3, 3] }, b], dtype)).toThrow(/^solve: matrix is singular/);
    }
    expect(() => runKernel('solve', [{ data: [0], shape: [1, 1] }, { data: [1], shape: [1, 1] }], 'float64')).toThrow(/singular/);
  });

  it('triangularSolve: zero on the diagonal (unless unitDiagonal)', () => {
    const a = { data: [1, 0, 3, 0], shape: [2, 2] };
    const b = { data: [1, 1], shape: [2, 1] };
    expect(() => runKernel('triangularSolve', [a, b], 'float64', { lower: true })).toThrow(/^triangularSolve: .*zero on the diagonal/);
    const [x] = runKernel('triangularSolve', [a, b], 'float64', { lower: true, unitDiagonal: true });
    expect(Array.from(x.data)).toEqual([1, -2]);
  });

  it('the primitive rules reject non-square, integer and mismatched inputs', () => {
    expect(() => runKernel('cholesky', [{ data: new Array(6).fill(1), shape: [2, 3] }], 'float64')).toThrow(/^cholesky: .*square/);
    expect(() => runKernel('eigh', [{ data: new Array(6).fill(1), shape: [3, 2] }], 'float64')).toThrow(/^eigh: .*square/);
    expect(() => runKernel('svd', [{ data: [1, 2, 3, 4], shape: [2, 2] }], 'int32')).toThrow(/^svd: .*int32/);
    expect(() =>
      runKernel('solve', [{ data: [1, 0, 0, 1], shape: [2, 2] }, { data: [1, 2, 3], shape: [3, 1] }], 'float64'),
    ).toThrow(/^solve: cannot solve/);
  });
});

// ---------------------------------------------------------------------------------------------
// Op tests (through the engine and the CPU backend)
// ---------------------------------------------------------------------------------------------

describe('linalg ops', () => {
  const rng = mulberry32(7);
  const f64 = { dtype: 'float64' } as const;
  const data = (t: Tensor): Float64Array => Float64Array.from(t.dataSync());

  it('match the numpy.linalg reference values', () => {
    expectClose(data(cholesky(tensor(REF.cholesky.a, { ...f64, shape: [3, 3] }))), REF.cholesky.l, 1e-12);
    const a = tensor(REF.solve.a, { ...f64, shape: [3, 3] });
    expectClose(data(solve(a, tensor(REF.solve.b, f64))), REF.solve.x, 1e-14);
    expectClose(data(inv(a)), REF.solve.inv, 1e-14);
    const { q, r } = qr(tensor(REF.qr.a, { ...f64, shape: [3, 2] }));
    expect([q.shape, r.shape]).toEqual([[3, 2], [2, 2]]);
    expectClose(data(q), REF.qr.q, 1e-14);
    expectClose(data(r), REF.qr.r, 1e-13);
    const { values, vectors } = eigh(tensor(REF.eigh.a, { ...f64, shape: [3, 3] }));
    expectClose(data(values), REF.eigh.w, 1e-13);
    expectClose(data(vectors), REF.eigh.v, 1e-14);
    const { u, s, vt } = svd(tensor(REF.svdWide.a, { ...f64, shape: [2, 3] }));
    expect([u.shape, s.shape, vt.shape]).toEqual([[2, 2], [2], [2, 3]]);
    expectClose(data(u), REF.svdWide.u, 1e-14);
    expectClose(data(s), REF.svdWide.s, 1e-13);
    expectClose(data(vt), REF.svdWide.vt, 1e-14);
  });

  for (const dtype of FLOATS) {
    const tol = TOL[dtype];

    it(`A · solve(A, B) = B and inv(A) · A = I, batched (${dtype})`, () => {
      const n = 5;
      const mats = [0, 1, 2].map(() => randomValues(rng, n * n).map((v, i) => (i % (n + 1) === 0 ? v + 3 : v)));
      const a = tensor(Float64Array.from(mats.flatMap((m) => [...m])), { dtype, shape: [3, n, n] });
      const aData = data(a);
      const rhs = tensor(randomValues(rng, 3 * n * 2), { dtype, shape: [3, n, 2] });
      const x = solve(a, rhs);
      const ainv = inv(a);
      expect(x.dtype).toBe(dtype);
      expect(x.shape).toEqual([3, n, 2]);
      expect(ainv.shape).toEqual([3, n, n]);
      for (let b = 0; b < 3; b++) {
        const ab = item(aData, b, n * n);
        expectClose(matmul(ab, item(data(x), b, n * 2), n, n, 2), item(data(rhs), b, n * 2), tol * 10);
        expectClose(matmul(item(data(ainv), b, n * n), ab, n, n, n), eye(n), tol * 10);
      }
    });

    it(`solve and triangularSolve take vector right-hand sides and broadcast batch dims (${dtype})`, () => {
      const n = 4;
      const aData = Float64Array.from(randomSpd(rng, n));
      const a = tensor(aData, { dtype, shape: [n, n] });
      const vec = tensor(randomValues(rng, 2 * n), { dtype, shape: [2, n] });
      const x = solve(a, tensor(data(vec).subarray(0, n), { dtype }));
      expect(x.shape).toEqual([n]);
      expectClose(matmul(aData, data(x), n, n, 1), data(vec).subarray(0, n), tol * 10);
      // Batched a (2, n, n) with a batch of vectors (2, n).
      const a2 = tensor(Float64Array.from([...aData, ...randomSpd(rng, n)]), { dtype, shape: [2, n, n] });
      const x2 = solve(a2, vec);
      expect(x2.shape).toEqual([2, n]);
      for (let b = 0; b < 2; b++) {
        expectClose(matmul(item(data(a2), b, n * n), item(data(x2), b, n), n, n, 1), item(data(vec), b, n), tol * 10);
      }
      // Broadcast: one matrix (n, n) against a batch of right-hand sides (3, n, 2).
      const rhs = tensor(randomValues(rng, 3 * n * 2), { dtype, shape: [3, n, 2] });
      const x3 = solve(a, rhs);
      expect(x3.shape).toEqual([3, n, 2]);
      for (let b = 0; b < 3; b++) expectClose(matmul(aData, item(data(x3), b, n * 2), n, n, 2), item(data(rhs), b, n * 2), tol * 10);
      // triangularSolve with the Cholesky factor: L y = b, then Lᵀ x = y solves A x = b.
      const l = cholesky(a);
      const b0 = tensor(data(vec).subarray(0, n), { dtype });
      const y = triangularSolve(l, b0, { lower: true });
      const x4 = triangularSolve(l, y, { lower: true, transpose: true });
      expect(x4.shape).toEqual([n]);
      expectClose(data(x4), data(x), tol * 10);
    });

    it(`qr, eigh and svd reconstruct their input (${dtype}, tall, wide, 1×1)`, () => {
      for (const [m, n] of [[5, 3], [3, 5], [1, 1]]) {
        const k = Math.min(m, n);
        const a = tensor(randomValues(rng, m * n), { dtype, shape: [m, n] });
        const aData = data(a);
        const { q, r } = qr(a);
        checkQr(aData, data(q), data(r), m, n, tol * 10);
        const { u, s, vt } = svd(a);
        expect(s.shape).toEqual([k]);
        checkSvd(aData, data(u), data(s), data(vt), m, n, tol * 10);
      }
      const sym = tensor(randomSymmetric(rng, 6), { dtype, shape: [6, 6] });
      const { values, vectors } = eigh(sym);
      expect([values.dtype, vectors.dtype]).toEqual([dtype, dtype]);
      checkEigh(data(sym), data(values), data(vectors), 6, tol * 10);
    });
  }

  it('accepts strided views (a transposed matrix)', () => {
    const n = 3;
    const a = tensor(REF.solve.a, { ...f64, shape: [n, n] });
    const at = a.transpose();
    const x = solve(at, tensor(REF.solve.b, f64));
    expectClose(matmul(transpose(REF.solve.a, n, n), data(x), n, n, 1), REF.solve.b, 1e-14);
  });

  it('disposes its temporaries', () => {
    const a = tensor(REF.solve.a, { ...f64, shape: [3, 3] });
    const b = tensor(REF.solve.b, f64);
    const before = memory();
    const x = solve(a, b);
    const ainv = inv(a);
    const after = memory();
    expect(after.tensors).toBe(before.tensors + 2);
    expect(after.buffers).toBe(before.buffers + 2);
    x.dispose();
    ainv.dispose();
  });

  it('errors name the op', () => {
    const int = tensor([[1, 2], [3, 4]], { dtype: 'int32' });
    expect(() => cholesky(int)).toThrow(/^cholesky: .*int32/);
    expect(() => solve(int, int)).toThrow(/^solve: .*int32/);
    expect(() => triangularSolve(int, int, { lower: true })).toThrow(/^triangularSolve: .*int32/);
    expect(() => inv(int)).toThrow(/^inv: .*int32/);
    expect(() => qr(int)).toThrow(/^qr: .*int32/);
    expect(() => eigh(int)).toThrow(/^eigh: .*int32/);
    expect(() => svd(int)).toThrow(/^svd: .*int32/);

    const wide = tensor([[1, 2, 3], [4, 5, 6]], f64);
    expect(() => cholesky(wide)).toThrow(/^cholesky: .*square/);
    expect(() => solve(wide, tensor([1, 2], f64))).toThrow(/^solve: .*square/);
    expect(() => inv(wide)).toThrow(/^inv: .*square/);
    expect(() => eigh(wide)).toThrow(/^eigh: .*square/);

    expect(() => cholesky(tensor([[1, 2], [2, 1]], f64))).toThrow(/^cholesky: matrix is not positive definite/);
    const singular = tensor([[1, 2], [2, 4]], f64);
    expect(() => solve(singular, tensor([1, 1], f64))).toThrow(/^solve: matrix is singular/);
    expect(() => inv(singular)).toThrow(/^inv: matrix is singular/);
    expect(() => triangularSolve(tensor([[0, 0], [1, 1]], f64), tensor([1, 1], f64), { lower: true })).toThrow(/^triangularSolve: .*zero on the diagonal/);
    expect(() => solve(tensor([[1, 0], [0, 1]], f64), tensor([1, 2, 3], f64))).toThrow(/^solve: cannot solve/);
  });
});

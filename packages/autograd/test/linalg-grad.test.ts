import { describe, expect, it } from 'vitest';
import { cholesky, concat, diagonal, eigh, eye, matmul, memory, onesLike, qr, scope, solve, svd, tensor, transpose, triangularSolve, tril, triu } from '@ml/tensor';
import type { Tensor } from '@ml/tensor';
import { grad, gradcheck, jvp, vjp } from '../src/index.js';

// ---------------------------------------------------------------------------------------------
// Fixed-seed data
// ---------------------------------------------------------------------------------------------

/** Mulberry32: a small deterministic generator of uniforms in [0, 1). */
function generator(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const sizeOf = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);

/** Standard normal draws (Box–Muller), float64. */
function randn(rand: () => number, shape: readonly number[]): Tensor {
  const data = Float64Array.from({ length: sizeOf(shape) }, () => {
    const u = 1 - rand();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rand());
  });
  return tensor(data, { shape, dtype: 'float64' });
}

const f64 = (data: number[]) => tensor(data, { dtype: 'float64' });
const I = (n: number) => eye(n, n, 0, { dtype: 'float64' });
const num = (t: Tensor): number => t.dataSync()[0];
const weighted = (t: Tensor, w: Tensor) => t.mul(w).sum();
const sym = (a: Tensor) => a.add(transpose(a)).mul(0.5);

/** Well-conditioned square matrices: n·I plus standard normal noise. */
function general(rand: () => number, batch: number[], n: number): Tensor {
  return randn(rand, [...batch, n, n]).add(I(n).mul(n));
}

/** Symmetric positive-definite matrices B Bᵀ + n·I. */
function spd(rand: () => number, batch: number[], n: number): Tensor {
  const b = randn(rand, [...batch, n, n]);
  return matmul(b, transpose(b)).add(I(n).mul(n));
}

/** Matrices with orthonormal columns, (..., m, k). */
function orthonormal(rand: () => number, batch: number[], m: number, k: number): Tensor {
  return qr(randn(rand, [...batch, m, k])).q;
}

/** Symmetric matrices Q diag(w) Qᵀ with the given (well separated) eigenvalues. */
function withSpectrum(rand: () => number, batch: number[], w: number[]): Tensor {
  const q = orthonormal(rand, batch, w.length, w.length);
  return matmul(q.mul(f64(w)), transpose(q));
}

/** (..., m, n) matrices U diag(s) Vᵀ with the given (distinct, positive) singular values. */
function withSingularValues(rand: () => number, batch: number[], m: number, n: number, s: number[]): Tensor {
  const k = Math.min(m, n);
  const u = orthonormal(rand, batch, m, k);
  const v = orthonormal(rand, batch, n, k);
  return matmul(u.mul(f64(s)), transpose(v));
}

/** Adds noise to the strict upper triangle (entries a lower-triangle kernel must ignore). */
function junkAbove(rand: () => number, a: Tensor): Tensor {
  return tril(a).add(triu(randn(rand, a.shape), 1).mul(5));
}

function check(f: (...xs: Tensor[]) => Tensor, inputs: Tensor[], label: string): void {
  const report = gradcheck(f, inputs);
  expect(report.ok, `${label}\n${report.message}`).toBe(true);
}

const BATCHES: number[][] = [[], [2]];
const BATCH_CASES = BATCHES.map((batch) => ({ batch }));
const label = (batch: number[], ...rest: unknown[]) => `batch (${batch.join(', ')}) ${rest.join(' ')}`;

/** ⟨u, J v⟩ by forward mode and ⟨Jᵀ u, v⟩ by reverse mode. */
function jvpVsVjp(f: (x: Tensor) => Tensor, x: Tensor, rand: () => number): [number, number] {
  const v = randn(rand, x.shape);
  const [y, jv] = jvp(f, [x], [v]);
  const u = randn(rand, y.shape);
  const [, pullback] = vjp(f, x);
  const [ju] = pullback(u);
  return [num(u.mul(jv).sum()), num(ju.mul(v).sum())];
}

// ---------------------------------------------------------------------------------------------
// cholesky
// ---------------------------------------------------------------------------------------------

describe('cholesky', () => {
  it.each(BATCH_CASES)('gradcheck on the lower triangle the kernel reads, batch ($batch)', ({ batch }) => {
    const rand = generator(11 + batch.length);
    for (const n of [1, 3, 4]) {
      const a = junkAbove(rand, spd(rand, batch, n));
      const w = randn(rand, a.shape);
      check((a) => weighted(cholesky(a), w), [a], label(batch, `n=${n} raw`));
    }
  });

  it.each(BATCH_CASES)('gradcheck through a symmetrizing wrapper, batch ($batch)', ({ batch }) => {
    const rand = generator(21 + batch.length);
    const n = 4;
    // a non-symmetric matrix whose symmetric part is positive definite
    const a = spd(rand, batch, n).add(randn(rand, [...batch, n, n]).mul(0.5));
    const w = randn(rand, a.shape);
    check((a) => weighted(cholesky(sym(a)), w), [a], label(batch, 'symmetrized'));
  });

  it('gives no cotangent above the diagonal, and log det gives A⁻¹', () => {
    const rand = generator(5);
    const a = junkAbove(rand, spd(rand, [], 4));
    const g = grad((a: Tensor) => weighted(cholesky(a), randn(generator(6), a.shape)))(a);
    expect(num(triu(g, 1).abs().max())).toBe(0);
    // log det A = 2 Σ log Lᵢᵢ; its symmetric gradient is A⁻¹
    const s = spd(rand, [], 4);
    const logdet = (a: Tensor) => diagonal(cholesky(sym(a)), 0, -2, -1).log().sum().mul(2);
    const gs = grad(logdet)(s);
    const inv = solve(s, I(4));
    expect(num(gs.sub(inv).abs().max())).toBeLessThan(1e-12);
  });
});

// ---------------------------------------------------------------------------------------------
// triangularSolve
// ---------------------------------------------------------------------------------------------

describe('triangularSolve', () => {
  const cases = [false, true].flatMap((lower) =>
    [false, true].flatMap((transpose) => [false, true].map((unitDiagonal) => ({ lower, transpose, unitDiagonal }))),
  );
  it.each(BATCH_CASES)('gradcheck for every lower/transpose/unitDiagonal, batch ($batch)', ({ batch }) => {
    const rand = generator(31 + batch.length);
    const n = 4;
    for (const opts of cases) {
      // a full matrix: the triangle not read (and the diagonal when unitDiagonal) must get no gradient
      const a = randn(rand, [...batch, n, n]).mul(0.5).add(I(n).mul(3));
      const b = randn(rand, [...batch, n, 2]);
      const w = randn(rand, b.shape);
      check((a, b) => weighted(triangularSolve(a, b, opts), w), [a, b], label(batch, JSON.stringify(opts)));
      const [ga] = grad((a: Tensor, b: Tensor) => weighted(triangularSolve(a, b, opts), w), [0, 1])(a, b);
      const k = opts.unitDiagonal ? 0 : opts.lower ? 1 : -1;
      const unread = opts.unitDiagonal ? ga.sub(opts.lower ? tril(ga, -1) : triu(ga, 1)) : opts.lower ? triu(ga, k) : tril(ga, k);
      expect(num(unread.abs().max()), JSON.stringify(opts)).toBe(0);
    }
  });

  it('gradcheck with a vector right-hand side and broadcast batch dims', () => {
    const rand = generator(37);
    const n = 3;
    const a = randn(rand, [n, n]).mul(0.5).add(I(n).mul(3));
    const bv = randn(rand, [n]);
    const wv = randn(rand, bv.shape);
    check((a, b) => weighted(triangularSolve(a, b, { lower: true }), wv), [a, bv], 'vector rhs');
    const ab = randn(rand, [2, n, n]).mul(0.5).add(I(n).mul(3));
    const bbv = randn(rand, [2, n]);
    const wbv = randn(rand, bbv.shape);
    check((a, b) => weighted(triangularSolve(a, b, { lower: false, unitDiagonal: true }), wbv), [ab, bbv], 'batched vector rhs');
    const bm = randn(rand, [2, n, 3]);
    const wm = randn(rand, bm.shape);
    check((a, b) => weighted(triangularSolve(a, b, { lower: false, transpose: true }), wm), [a, bm], 'broadcast a');
  });
});

// ---------------------------------------------------------------------------------------------
// solve
// ---------------------------------------------------------------------------------------------

describe('solve', () => {
  it.each(BATCH_CASES)('gradcheck, batch ($batch)', ({ batch }) => {
    const rand = generator(41 + batch.length);
    for (const [n, p] of [[1, 1], [3, 2], [4, 4]]) {
      const a = general(rand, batch, n);
      const b = randn(rand, [...batch, n, p]);
      const w = randn(rand, b.shape);
      check((a, b) => weighted(solve(a, b), w), [a, b], label(batch, `n=${n} p=${p}`));
    }
  });

  it('gradcheck with a vector right-hand side and broadcast batch dims', () => {
    const rand = generator(47);
    const a = general(rand, [], 3);
    const b = randn(rand, [3]);
    const w = randn(rand, [3]);
    check((a, b) => weighted(solve(a, b), w), [a, b], 'vector rhs');
    const ab = general(rand, [2], 3);
    const bbv = randn(rand, [2, 3]);
    const wbv = randn(rand, bbv.shape);
    check((a, b) => weighted(solve(a, b), wbv), [ab, bbv], 'batched vector rhs');
    const bb = randn(rand, [2, 3, 2]);
    const wb = randn(rand, bb.shape);
    check((a, b) => weighted(solve(a, b), wb), [a, bb], 'broadcast a');
    // only b differentiated: the rule skips A's cotangent
    check((b) => weighted(solve(a, b), wb), [bb], 'b only');
    check((b) => weighted(triangularSolve(a, b, { lower: true, transpose: true }), wb), [bb], 'triangularSolve, b only');
  });

  it('second order: gradcheck of the gradient', () => {
    const rand = generator(53);
    for (const batch of BATCHES) {
      const a = general(rand, batch, 3);
      const b = randn(rand, [...batch, 3, 2]);
      const w = randn(rand, b.shape);
      const wa = randn(rand, a.shape);
      const wb = randn(rand, b.shape);
      // a loss that is not linear in X, so the second derivative involves every term of the rule
      const loss = (a: Tensor, b: Tensor) => weighted(solve(a, b).square(), w);
      const gradDot = (a: Tensor, b: Tensor) => {
        const [ga, gb] = grad(loss, [0, 1])(a, b);
        return weighted(ga, wa).add(weighted(gb, wb));
      };
      check(gradDot, [a, b], label(batch, 'grad of grad'));
    }
  });
});

// ---------------------------------------------------------------------------------------------
// qr
// ---------------------------------------------------------------------------------------------

describe('qr', () => {
  const shapes: [string, number, number][] = [
    ['tall', 5, 3],
    ['square', 4, 4],
    ['wide', 3, 5],
    ['column', 4, 1],
    ['row', 1, 3],
  ];
  it.each(BATCH_CASES)('gradcheck of Q and R, tall, square and wide, batch ($batch)', ({ batch }) => {
    const rand = generator(61 + batch.length);
    for (const [name, m, n] of shapes) {
      const a = randn(rand, [...batch, m, n]).add(eye(m, n, 0, { dtype: 'float64' }).mul(2));
      const { q, r } = qr(a);
      const wq = randn(rand, q.shape);
      const wr = randn(rand, r.shape); // includes weights on R's (constant) lower triangle
      check((a) => {
        const { q, r } = qr(a);
        return weighted(q, wq).add(weighted(r, wr));
      }, [a], label(batch, name, `${m}x${n}`));
    }
  });
});

// ---------------------------------------------------------------------------------------------
// eigh
// ---------------------------------------------------------------------------------------------

describe('eigh', () => {
  /** A loss of all outputs, invariant to the sign of each eigenvector. */
  function eighLoss(rand: () => number, batch: number[], n: number): (a: Tensor) => Tensor {
    const c = randn(rand, [...batch, n]);
    const ww = randn(rand, [...batch, n, n]);
    const cm = randn(rand, [...batch, n, n]);
    const d = randn(rand, [...batch, n]);
    return (a) => {
      const { values, vectors } = eigh(a);
      const reconstructed = matmul(vectors.mul(values.sin().add(d).unsqueeze(-2)), transpose(vectors)); // V diag(g(w)) Vᵀ
      return weighted(values, c).add(weighted(vectors.square(), ww)).add(weighted(reconstructed, cm));
    };
  }

  it.each(BATCH_CASES)('gradcheck on the lower triangle the kernel reads, batch ($batch)', ({ batch }) => {
    const rand = generator(71 + batch.length);
    for (const w of [[0.5], [-1, 2], [-2, 0.5, 1.5, 3]]) {
      const a = junkAbove(rand, withSpectrum(rand, batch, w));
      check(eighLoss(rand, batch, w.length), [a], label(batch, `n=${w.length} raw`));
    }
  });

  it.each(BATCH_CASES)('gradcheck through a symmetrizing wrapper, batch ($batch)', ({ batch }) => {
    const rand = generator(81 + batch.length);
    const w = [-1, 0.25, 1.5, 3];
    const a = withSpectrum(rand, batch, w).add(randn(rand, [...batch, 4, 4]).mul(0.05));
    const loss = eighLoss(rand, batch, 4);
    check((a) => loss(sym(a)), [a], label(batch, 'symmetrized'));
  });

  it('gives the trace gradient I and no cotangent above the diagonal', () => {
    const rand = generator(85);
    const a = junkAbove(rand, withSpectrum(rand, [], [1, 2, 4]));
    const g = grad((a: Tensor) => eigh(a).values.sum())(a);
    expect(num(g.sub(I(3)).abs().max())).toBeLessThan(1e-12);
  });

  it('gives non-finite gradients at repeated eigenvalues (undefined there)', () => {
    const c = randn(generator(87), [3, 3]);
    const g = grad((a: Tensor) => weighted(eigh(a).vectors.square(), c))(I(3));
    const finite = (g.dataSync() as Float64Array).every(Number.isFinite);
    expect(finite).toBe(false);
  });
});

// ---------------------------------------------------------------------------------------------
// svd
// ---------------------------------------------------------------------------------------------

describe('svd', () => {
  /** A loss of all outputs, invariant to the joint sign of each pair (uⱼ, vⱼ). */
  function svdLoss(rand: () => number, batch: number[], m: number, n: number): (a: Tensor) => Tensor {
    const k = Math.min(m, n);
    const c = randn(rand, [...batch, k]);
    const cm = randn(rand, [...batch, m, n]);
    const wu = randn(rand, [...batch, m, k]);
    const wv = randn(rand, [...batch, k, n]);
    const d = randn(rand, [...batch, k]);
    return (a) => {
      const { u, s, vt } = svd(a);
      const mixed = matmul(u.mul(s.add(d).unsqueeze(-2)), vt); // U diag(S + d) Vt
      return weighted(s, c).add(weighted(mixed, cm)).add(weighted(u.square(), wu)).add(weighted(vt.square(), wv));
    };
  }

  const shapes: [string, number, number, number[]][] = [
    ['tall', 5, 3, [3, 2, 0.5]],
    ['square', 3, 3, [2.5, 1.5, 0.4]],
    ['wide', 2, 4, [3, 1]],
    ['single column', 3, 1, [2]],
  ];
  it.each(BATCH_CASES)('gradcheck, tall, square and wide, batch ($batch)', ({ batch }) => {
    const rand = generator(91 + batch.length);
    for (const [name, m, n, s] of shapes) {
      const a = withSingularValues(rand, batch, m, n, s);
      check(svdLoss(rand, batch, m, n), [a], label(batch, name, `${m}x${n}`));
    }
  });

  it('the gradient of the nuclear norm Σ S is U Vt', () => {
    const a = withSingularValues(generator(97), [], 4, 3, [3, 2, 1]);
    const g = grad((a: Tensor) => svd(a).s.sum())(a);
    const { u, vt } = svd(a);
    expect(num(g.sub(matmul(u, vt)).abs().max())).toBeLessThan(1e-12);
  });
});

// ---------------------------------------------------------------------------------------------
// forward mode and memory
// ---------------------------------------------------------------------------------------------

describe('second order through the other solvers', () => {
  /** gradcheck of x ↦ ⟨∇f(x), w⟩, which differentiates each rule's own ops. */
  function checkSecondOrder(f: (x: Tensor) => Tensor, x: Tensor, name: string): void {
    const w = randn(generator(131), x.shape);
    check((x) => weighted(grad(f)(x), w), [x], `${name}: grad of grad`);
  }
  const rand = generator(127);
  it('cholesky', () => {
    const c = randn(rand, [2, 3, 3]);
    checkSecondOrder((a) => weighted(cholesky(a).square(), c), junkAbove(rand, spd(rand, [2], 3)), 'cholesky');
  });
  it('triangularSolve', () => {
    const a = randn(rand, [3, 3]).mul(0.5).add(I(3).mul(3));
    const b = randn(rand, [3, 2]);
    const c = randn(rand, [3, 2]);
    checkSecondOrder((a) => weighted(triangularSolve(a, b, { lower: true, transpose: true }).square(), c), a, 'triangularSolve');
  });
  it('qr (tall and wide)', () => {
    for (const [m, n] of [[4, 3], [2, 4]]) {
      const a = randn(rand, [m, n]).add(eye(m, n, 0, { dtype: 'float64' }).mul(2));
      const cq = randn(rand, [m, Math.min(m, n)]);
      const cr = randn(rand, [Math.min(m, n), n]);
      checkSecondOrder((a) => {
        const { q, r } = qr(a);
        return weighted(q.square(), cq).add(weighted(r.square(), cr));
      }, a, `qr ${m}x${n}`);
    }
  });
  it('eigh', () => {
    const c = randn(rand, [3, 3]);
    const a = withSpectrum(rand, [], [-1, 0.5, 2]);
    checkSecondOrder((a) => {
      const { values, vectors } = eigh(sym(a));
      return values.square().sum().add(weighted(vectors.square(), c));
    }, a, 'eigh');
  });
  it('svd', () => {
    const c = randn(rand, [4, 3]);
    const a = withSingularValues(rand, [], 4, 3, [3, 1.5, 0.5]);
    checkSecondOrder((a) => {
      const { u, s, vt } = svd(a);
      return s.square().sum().add(weighted(matmul(u.mul(s.sqrt().unsqueeze(-2)), vt), c)).add(u.square().sum());
    }, a, 'svd');
  });
});

describe('forward mode', () => {
  const flat = (ts: Tensor[]) => concat(ts.map((t) => t.reshape([-1])), 0);
  const rand = generator(101);
  const cases: [string, (x: Tensor) => Tensor, Tensor][] = [
    ['solve', (a) => solve(a, f64([1, -2, 0.5])), general(rand, [], 3)],
    ['triangularSolve', (a) => triangularSolve(a, f64([1, -2, 0.5]), { lower: false, transpose: true }), general(rand, [], 3)],
    ['cholesky', (a) => cholesky(a), spd(rand, [2], 3)],
    ['qr (wide)', (a) => flat(Object.values(qr(a))), randn(rand, [2, 3, 4])],
    ['qr (tall)', (a) => flat(Object.values(qr(a))), randn(rand, [4, 3])],
    ['eigh', (a) => flat(Object.values(eigh(a))), withSpectrum(rand, [2], [-1, 0.5, 2])],
    ['svd', (a) => flat(Object.values(svd(a))), withSingularValues(rand, [], 4, 3, [3, 2, 1])],
  ];
  it.each(cases)('jvp agrees with vjp: %s', (_name, f, x) => {
    const [lhs, rhs] = jvpVsVjp(f, x, generator(103));
    expect(Math.abs(lhs - rhs)).toBeLessThan(1e-10 * Math.max(1, Math.abs(rhs)));
  });
});

describe('float32', () => {
  it('every rule keeps float32 cotangents float32', () => {
    const rand = generator(141);
    const a = spd(rand, [2], 3).cast('float32');
    const b = randn(rand, [2, 3, 2]).cast('float32');
    const fs: [string, (a: Tensor) => Tensor][] = [
      ['cholesky', (a) => cholesky(a).sum()],
      ['triangularSolve', (a) => triangularSolve(a, b, { lower: true }).sum()],
      ['solve', (a) => solve(a, b).sum()],
      ['qr', (a) => qr(a).q.sum().add(qr(a).r.sum())],
      ['eigh', (a) => eigh(a).values.sum().add(eigh(a).vectors.square().mul(b.slice('..., :1')).sum())],
      ['svd', (a) => svd(a).s.sum().add(svd(a).u.square().mul(b.slice('..., :1')).sum())],
    ];
    for (const [name, f] of fs) {
      const g = grad(f)(a);
      expect(g.dtype, name).toBe('float32');
      expect((g.dataSync() as Float32Array).every(Number.isFinite), name).toBe(true);
    }
  });
});

describe('memory', () => {
  it('reverse and forward mode through every solver free what they allocate', () => {
    const rand = generator(111);
    const a = spd(rand, [2], 3);
    const b = randn(rand, [2, 3, 2]);
    const f = (a: Tensor) => {
      const l = cholesky(a);
      const x = triangularSolve(l, b, { lower: true });
      const y = solve(a, x);
      const { q, r } = qr(y);
      const { values, vectors } = eigh(a);
      const { u, s, vt } = svd(a);
      return [x, y, q, r, values, vectors.square(), u.square(), s, vt.square()].map((t) => t.sum()).reduce((p, t) => p.add(t));
    };
    const before = memory().tensors;
    scope(() => void grad(f)(a));
    expect(memory().tensors).toBe(before);
    scope(() => void jvp(f, [a], [onesLike(a)]));
    expect(memory().tensors).toBe(before);
  });
});

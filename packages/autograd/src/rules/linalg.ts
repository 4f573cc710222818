/**
 * Gradient rules of the dense solvers: cholesky, triangularSolve, solve, qr, eigh and svd.
 *
 * Every rule works on the last two dims and batches over the leading ones (the primitives see
 * inputs whose batch dims were already broadcast by the front end, as `expand` views whose own
 * rule sums the cotangent back). Notation: Xᵀ swaps the last two dims, X̄ is the cotangent of X,
 * ∘ is the elementwise product, ⟨X, Y⟩ = Σ X ∘ Y, I is the identity, tril/triu keep the lower/upper
 * triangle, and Φ(X) = tril(X) with its diagonal halved.
 *
 * The rules are written in @ml/tensor ops, so they can be differentiated again (higher-order
 * gradients) and transposed (forward mode).
 *
 * Where the kernel reads only one triangle of its input (cholesky, eigh, and the triangle of
 * triangularSolve's matrix) the rule returns the derivative of the function the kernel computes:
 * entries it never reads get a zero cotangent. For cholesky and eigh, which read the lower triangle
 * of a matrix taken as symmetric, that means: with Gₛ the symmetric gradient (the gradient for
 * symmetric perturbations of A), Ā = tril(2Gₛ) with the diagonal Gₛᵢᵢ. Composed with a
 * symmetrization S = (A + Aᵀ)/2 this gives back Gₛ, the symmetric gradient PyTorch returns.
 */
import {
  add,
  concat,
  div,
  eye,
  matmul,
  mul,
  neg,
  slice,
  solve,
  sub,
  transpose,
  triangularSolve,
  tril,
  triu,
  unsqueeze,
} from '@ml/tensor';
import type { Tensor } from '@ml/tensor';
import type { GradRule } from './types.js';

/** The n×n identity with `like`'s dtype and backend (broadcasts over batch dims). */
function identity(n: number, like: Tensor): Tensor {
  return eye(n, n, 0, { dtype: like.dtype, backend: like.backend });
}

/** Φ(X): the lower triangle of X with its diagonal halved. */
function phi(x: Tensor, eyeN: Tensor): Tensor {
  return tril(mul(x, sub(1, mul(eyeN, 0.5))));
}

/** diag(v) for v (…, k) → (…, k, k). */
function diagEmbed(v: Tensor, eyeK: Tensor): Tensor {
  return mul(unsqueeze(v, -1), eyeK);
}

/**
 * The cotangent of a matrix read only through its lower triangle as a symmetric matrix, given the
 * (not necessarily symmetric) G with ⟨G, dA⟩ = the change of the loss for a symmetric dA:
 * Ā = Φ(G + Gᵀ) (off-diagonal Gᵢⱼ + Gⱼᵢ, diagonal Gᵢᵢ, zero above the diagonal).
 */
function lowerFromSymmetric(g: Tensor, eyeN: Tensor): Tensor {
  return phi(add(g, transpose(g)), eyeN);
}

/** X R⁻ᵀ for an upper-triangular R, by one triangular solve: (X R⁻ᵀ)ᵀ = R⁻¹ Xᵀ. */
function timesUpperInverseTransposed(x: Tensor, r: Tensor): Tensor {
  return transpose(triangularSolve(r, transpose(x), { lower: false }));
}

/**
 * Reverse rule of A = QR for Q (…, m, k) and a square upper-triangular R (…, k, k) (the m ≥ n
 * case), after Liao, Liu, Wang & Xiang, "Differentiable programming tensor networks" (2019), and
 * Seeger et al., "Auto-differentiating linear algebra" (2017); equivalent to PyTorch's
 * `linalg_qr_backward`:
 *   M = R R̄ᵀ − Q̄ᵀ Q,   Ā = (Q̄ + Q copyltu(M)) R⁻ᵀ,
 * with copyltu(M) = tril(M) + tril(M, −1)ᵀ (the lower triangle mirrored to the upper one).
 * Derivation: with X = Qᵀ dA R⁻¹, the skew-symmetric QᵀdQ equals tril(X, −1) − tril(X, −1)ᵀ and
 * dR R⁻¹ = X − QᵀdQ, which makes ⟨Q̄, dQ⟩ + ⟨R̄, dR⟩ = ⟨(Q̄ + Q copyltu(M)) R⁻ᵀ, dA⟩. Only the upper
 * triangle of R̄ matters (R's lower triangle is constant). Needs R invertible (A of full column
 * rank): an exactly zero diagonal entry of R makes the triangular solve throw.
 */
function qrSquareBackward(q: Tensor, r: Tensor, gq: Tensor, gr: Tensor): Tensor {
  const m = sub(matmul(r, transpose(gr)), matmul(transpose(gq), q));
  const copyltu = add(tril(m), transpose(tril(m, -1)));
  return timesUpperInverseTransposed(add(gq, matmul(q, copyltu)), r);
}

export const LINALG_RULES: Record<string, GradRule> = {
  /**
   * L = cholesky(A), A = L Lᵀ, reading A's lower triangle (Murray, "Differentiation of the
   * Cholesky decomposition", 2016; PyTorch's `cholesky_backward`). For symmetric dA,
   * L⁻¹ dA L⁻ᵀ = L⁻¹dL + (L⁻¹dL)ᵀ with L⁻¹dL lower triangular, so dL = L Φ(L⁻¹ dA L⁻ᵀ) and
   *   ⟨L̄, dL⟩ = ⟨G, dA⟩,   G = L⁻ᵀ Φ(Lᵀ L̄) L⁻¹.
   * The cotangent of the entries the kernel reads is Ā = Φ(G + Gᵀ) (see `lowerFromSymmetric`);
   * the upper triangle of L̄ drops out (Lᵀ triu(L̄, 1) is strictly upper triangular).
   */
  cholesky: {
    save: { inputs: false, outputs: true },
    vjp: ({ outputs: [l] }, [gl]) => {
      const eyeN = identity(l.shape[l.rank - 1], l);
      const p = phi(matmul(transpose(l), gl), eyeN);
      const left = triangularSolve(l, p, { lower: true, transpose: true }); // L⁻ᵀ P
      const g = transpose(triangularSolve(l, transpose(left), { lower: true, transpose: true })); // L⁻ᵀ P L⁻¹
      return [lowerFromSymmetric(g, eyeN)];
    },
  },

  /**
   * X = op(A)⁻¹ B with op(A) = A or Aᵀ (params.transpose) and A triangular:
   *   B̄ = op(A)⁻ᵀ X̄ (the same solve with the other transpose),
   *   op(A)‾ = −B̄ Xᵀ, so Ā = −B̄ Xᵀ, or −X B̄ᵀ when transposed,
   * masked to the triangle the kernel reads (strictly, without the diagonal, when unitDiagonal).
   */
  triangularSolve: {
    save: { inputs: true, outputs: true },
    vjp: ({ inputs: [a], outputs: [x], params, needsGrad }, [g]) => {
      const lower: boolean = params.lower;
      const trans: boolean = params.transpose ?? false;
      const unitDiagonal: boolean = params.unitDiagonal ?? false;
      const gb = triangularSolve(a, g, { lower, transpose: !trans, unitDiagonal });
      if (needsGrad?.[0] === false) return [null, gb];
      const ga = trans ? neg(matmul(x, transpose(gb))) : neg(matmul(gb, transpose(x)));
      const k = unitDiagonal ? 1 : 0;
      return [lower ? tril(ga, -k) : triu(ga, k), gb];
    },
  },

  /** X = A⁻¹ B: B̄ = A⁻ᵀ X̄ (a solve with Aᵀ), Ā = −B̄ Xᵀ (Giles, "Collected matrix derivative results", 2008). */
  solve: {
    save: { inputs: true, outputs: true },
    vjp: ({ inputs: [a], outputs: [x], needsGrad }, [g]) => {
      const gb = solve(transpose(a), g);
      if (needsGrad?.[0] === false) return [null, gb];
      return [neg(matmul(gb, transpose(x))), gb];
    },
  },

  /**
   * Reduced QR, A (…, m, n) = Q (…, m, k) R (…, k, n), k = min(m, n). For m ≥ n see
   * `qrSquareBackward`. For a wide A (m < n), as in PyTorch: split A = [X | Y] and R = [Rₓ | Rᵧ]
   * after the first m columns; then X = Q Rₓ is a square QR and Rᵧ = Qᵀ Y, so Y = Q Rᵧ and
   *   Ȳ = Q R̄ᵧ,   X̄ = qrSquareBackward(Q, Rₓ, Q̄ + Y R̄ᵧᵀ, R̄ₓ),   Ā = [X̄ | Ȳ].
   * Needs the leading k×k block of A to have full rank.
   */
  qr: {
    save: { inputs: false, outputs: true },
    vjp: ({ outputs: [q, r] }, [gq, gr]) => {
      const m = q.shape[q.rank - 2];
      const n = r.shape[r.rank - 1];
      if (m >= n) return [qrSquareBackward(q, r, gq, gr)];
      const rx = slice(r, `..., :${m}`);
      const ry = slice(r, `..., ${m}:`);
      const grx = slice(gr, `..., :${m}`);
      const gry = slice(gr, `..., ${m}:`);
      const y = matmul(q, ry);
      const gx = qrSquareBackward(q, rx, add(gq, matmul(y, transpose(gry))), grx);
      return [concat([gx, matmul(q, gry)], -1)];
    },
  },

  /**
   * A = V diag(w) Vᵀ, w ascending, reading A's lower triangle (Giles 2008; PyTorch's
   * `linalg_eig_backward` for Hermitian input). For symmetric dA: dwᵢ = vᵢᵀ dA vᵢ and
   * VᵀdV = F ∘ (Vᵀ dA V) with Fᵢⱼ = 1/(wⱼ − wᵢ) (i ≠ j), Fᵢᵢ = 0, so
   *   ⟨w̄, dw⟩ + ⟨V̄, dV⟩ = ⟨G, dA⟩,   G = V (diag(w̄) + F ∘ (VᵀV̄)) Vᵀ,
   * whose symmetric part Gₛ = V (diag(w̄) + F ∘ ½(VᵀV̄ − V̄ᵀV)) Vᵀ is the usual symmetric gradient
   * (F is antisymmetric, so only the skew part of VᵀV̄ contributes). The cotangent of the entries
   * the kernel reads is Ā = Φ(G + Gᵀ).
   *
   * Repeated eigenvalues make F infinite: the gradient is undefined there and the rule gives
   * ±Inf/NaN, as PyTorch does. Because an unused output gets a zero cotangent (not "no cotangent"),
   * this also holds for losses of the eigenvalues alone (0·Inf = NaN), where PyTorch special-cases
   * the missing V̄.
   */
  eigh: {
    save: { inputs: false, outputs: true },
    vjp: ({ outputs: [w, v] }, [gw, gv]) => {
      const eyeN = identity(w.shape[w.rank - 1], w);
      const gap = sub(unsqueeze(w, -2), unsqueeze(w, -1)); // [i, j] = wⱼ − wᵢ
      const f = div(sub(1, eyeN), add(gap, eyeN)); // 1/(wⱼ − wᵢ) off the diagonal, 0 on it (no 0/0)
      const inner = add(diagEmbed(gw, eyeN), mul(f, matmul(transpose(v), gv)));
      const g = matmul(matmul(v, inner), transpose(v));
      return [lowerFromSymmetric(g, eyeN)];
    },
  },

  /**
   * Reduced SVD A (…, m, n) = U diag(S) Vt, k = min(m, n), real case (Townsend, "Differentiating
   * the singular value decomposition", 2016; PyTorch's `svd_backward`). With V = Vtᵀ, V̄ = V̄tᵀ,
   * Eᵢⱼ = Sⱼ² − Sᵢ² and the skew parts J = UᵀŪ − ŪᵀU, K = VᵀV̄ − V̄ᵀV (k×k):
   *   Γ = diag(S̄) + (J S + S K) / E   (off the diagonal; J and K have zero diagonals)
   *   Ā = U Γ Vt                                           when m = n,
   *   Ā = (U Γ + (I − UUᵀ) Ū S⁻¹) Vt                        when m > n,
   *   Ā = U (Γ Vt + S⁻¹ V̄t (I − VtᵀVt))                     when m < n.
   * The loss must not depend on the joint sign of (uⱼ, vⱼ), which the kernel fixes by convention.
   * Repeated singular values make Γ infinite and zero singular values make the m ≠ n terms
   * infinite: the gradient is then undefined and the rule produces ±Inf/NaN, as PyTorch does.
   */
  svd: {
    save: { inputs: false, outputs: true },
    vjp: ({ outputs: [u, s, vt] }, [gu, gs, gvt]) => {
      const m = u.shape[u.rank - 2];
      const n = vt.shape[vt.rank - 1];
      const eyeK = identity(s.shape[s.rank - 1], s);
      const skew = (x: Tensor) => sub(x, transpose(x));
      const j = skew(matmul(transpose(u), gu));
      const k = skew(matmul(vt, transpose(gvt)));
      const sRow = unsqueeze(s, -2); // [i, j] = Sⱼ
      const sCol = unsqueeze(s, -1); // [i, j] = Sᵢ
      const s2 = mul(s, s);
      const e = add(sub(unsqueeze(s2, -2), unsqueeze(s2, -1)), eyeK); // Sⱼ² − Sᵢ², 1 on the diagonal
      const gamma = add(div(add(mul(j, sRow), mul(sCol, k)), e), diagEmbed(gs, eyeK));
      if (m > n) {
        const guSinv = div(gu, sRow);
        const outside = sub(guSinv, matmul(u, matmul(transpose(u), guSinv))); // (I − UUᵀ) Ū S⁻¹
        return [matmul(add(matmul(u, gamma), outside), vt)];
      }
      if (m < n) {
        const sinvGvt = div(gvt, sCol);
        const outside = sub(sinvGvt, matmul(matmul(sinvGvt, transpose(vt)), vt)); // S⁻¹ V̄t (I − VtᵀVt)
        return [matmul(u, add(matmul(gamma, vt), outside))];
      }
      return [matmul(u, matmul(gamma, vt))];
    },
  },
};

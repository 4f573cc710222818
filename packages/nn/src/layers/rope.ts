/**
 * Rotary position embeddings (RoPE, Su et al. 2021), in the rotate-half convention of GPT-NeoX and
 * Llama (Hugging Face): the head dim D is split into halves x₁ = x[…, :D/2], x₂ = x[…, D/2:], and
 * pair i = (x₁[i], x₂[i]) is rotated by the angle m·θᵢ at position m, θᵢ = base^(−2i/D):
 *
 *   RoPE(x, m) = [x₁ ⊙ cos(mθ) − x₂ ⊙ sin(mθ),  x₂ ⊙ cos(mθ) + x₁ ⊙ sin(mθ)]
 *
 * A rotation by mθ on the query and nθ on the key leaves ⟨RoPE(q, m), RoPE(k, n)⟩ a function of
 * m − n only: attention scores see relative positions. (Meta's original Llama code rotates
 * interleaved pairs (x[2i], x[2i+1]) instead; the two differ by a fixed permutation of the head
 * dims, so weights converted from one must be permuted for the other.)
 */
import { Tensor, concat, scope, tensor } from '@ml/tensor';
import type { Backend } from '@ml/tensor';
import { Module } from '../module.js';
import { Buffer } from '../parameter.js';
import { checkDtype, checkInt, checkPositive, checkTensor, fail, fmtShape } from './layer-utils.js';
import type { FloatDType } from './layer-utils.js';

/** Positions of the T rows: a start (positions start … start + T − 1), a list, or an int32 tensor (T,). */
export type RopePositions = number | readonly number[] | Tensor;

/** cos(mθᵢ) and sin(mθᵢ) for the given positions, as flat (positions, D/2) arrays in float64. */
function angleTable(positions: readonly number[], headDim: number, base: number): { cos: Float64Array; sin: Float64Array } {
  const half = headDim / 2;
  const cos = new Float64Array(positions.length * half);
  const sin = new Float64Array(positions.length * half);
  positions.forEach((m, r) => {
    for (let i = 0; i < half; i++) {
      const angle = m * Math.pow(base, (-2 * i) / headDim);
      cos[r * half + i] = Math.cos(angle);
      sin[r * half + i] = Math.sin(angle);
    }
  });
  return { cos, sin };
}

/** Checks x (…, T, D) with D even; returns [T, D]. */
function checkRopeInput(where: string, x: Tensor, headDim?: number): [number, number] {
  checkTensor(where, 'x', x);
  if (x.dtype !== 'float32' && x.dtype !== 'float64') fail(where, `x must be float32 or float64, got ${x.dtype}`);
  if (x.rank < 2) fail(where, `expected x (…, T, D), got ${fmtShape(x.shape)}`);
  const [T, D] = x.shape.slice(-2);
  if (headDim !== undefined && D !== headDim) fail(where, `expected x (…, T, ${headDim}), got ${fmtShape(x.shape)}`);
  if (D % 2 !== 0) fail(where, `the head dim must be even, got x ${fmtShape(x.shape)}`);
  return [T, D];
}

/** Positions as a JS list (number or array forms), checked against T. */
function positionList(where: string, positions: number | readonly number[], T: number): number[] {
  if (typeof positions === 'number') {
    checkInt(where, 'startPos', positions, 0);
    return Array.from({ length: T }, (_, t) => positions + t);
  }
  if (positions.length !== T) fail(where, `expected ${T} positions for x with T = ${T}, got ${positions.length}`);
  for (const p of positions) if (!Number.isInteger(p) || p < 0) fail(where, `positions must be non-negative integers, got ${p}`);
  return [...positions];
}

/**
 * Rotates x (…, T, D) by the angle tables cos, sin (T, D/2) (rotate-half convention):
 * [x₁ ⊙ cos − x₂ ⊙ sin, x₂ ⊙ cos + x₁ ⊙ sin].
 *
 * @example
 * ```ts
 * const y = applyRotary(q, cos, sin); // q (B, H, T, 64), cos/sin (T, 32)
 * ```
 */
export function applyRotary(x: Tensor, cos: Tensor, sin: Tensor): Tensor {
  const where = 'applyRotary';
  const [T, D] = checkRopeInput(where, x);
  for (const [name, t] of [['cos', cos], ['sin', sin]] as const) {
    checkTensor(where, name, t);
    if (t.rank !== 2 || t.shape[0] !== T || t.shape[1] !== D / 2) fail(where, `expected ${name} (${T}, ${D / 2}) for x ${fmtShape(x.shape)}, got ${fmtShape(t.shape)}`);
  }
  return scope(() => {
    const c = cos.dtype === x.dtype ? cos : cos.cast(x.dtype);
    const s = sin.dtype === x.dtype ? sin : sin.cast(x.dtype);
    const [x1, x2] = x.split(D / 2, -1); // each (…, T, D/2)
    return concat([x1.mul(c).sub(x2.mul(s)), x2.mul(c).add(x1.mul(s))], -1); // (…, T, D)
  });
}

/**
 * Rotary position embedding of x (…, T, D) (usually (B, H, T, D) queries or keys) at the given
 * positions, computing the angle table for this call (use {@link RotaryEmbedding} to cache it).
 *
 * Args:
 * - `x`: (…, T, D), D even, float.
 * - `positions`: a start position (row t gets position start + t, default 0), a list of T
 *   positions, or an int32 tensor (T,).
 * - `base`: θᵢ = base^(−2i/D) (default 10000).
 *
 * Shape: unchanged. ⟨RoPE(q, m), RoPE(k, n)⟩ depends on m − n only.
 *
 * @example
 * ```ts
 * const q2 = rotaryEmbedding(q, 0);          // (B, H, T, D), positions 0 … T − 1
 * const k2 = rotaryEmbedding(kNew, startPos); // one decoding step at position startPos
 * ```
 */
export function rotaryEmbedding(x: Tensor, positions: RopePositions = 0, base = 10000): Tensor {
  const where = 'rotaryEmbedding';
  const [T, D] = checkRopeInput(where, x);
  checkPositive(where, 'base', base);
  return scope(() => {
    let cos: Tensor;
    let sin: Tensor;
    if (positions instanceof Tensor) {
      checkPositionTensor(where, positions, T);
      // angles m·θᵢ with tensor ops: (T, 1) · (1, D/2)
      const theta = tensor(Float64Array.from({ length: D / 2 }, (_, i) => Math.pow(base, (-2 * i) / D)), { dtype: x.dtype, backend: x.backend });
      const angles = positions.cast(x.dtype).reshape([T, 1]).mul(theta.reshape([1, D / 2]));
      cos = angles.cos();
      sin = angles.sin();
    } else {
      const table = angleTable(positionList(where, positions, T), D, base);
      cos = tensor(table.cos, { shape: [T, D / 2], dtype: x.dtype, backend: x.backend });
      sin = tensor(table.sin, { shape: [T, D / 2], dtype: x.dtype, backend: x.backend });
    }
    return applyRotary(x, cos, sin);
  });
}

function checkPositionTensor(where: string, positions: Tensor, T: number): void {
  checkTensor(where, 'positions', positions);
  if (positions.dtype !== 'int32' || positions.rank !== 1 || positions.shape[0] !== T) {
    fail(where, `expected int32 positions (${T},), got ${positions.dtype} ${fmtShape(positions.shape)}`);
  }
}

/** Options of {@link RotaryEmbedding}. */
export interface RotaryEmbeddingOptions {
  /** θᵢ = base^(−2i/D) (default 10000; Llama 3 uses 500000). */
  base?: number;
  /** Positions the table holds initially; it doubles when a later position needs it (default 2048). */
  maxLen?: number;
  /** dtype of the table (default float32; it is cast to the input's dtype if they differ). */
  dtype?: FloatDType;
}

/**
 * Rotary position embedding with a cached angle table: `cos` and `sin` (maxLen, D/2) are
 * non-persistent buffers (not in the state dict; moved by `to()`), grown on demand.
 *
 * Shape: forward(x (…, T, D), positions) → same shape; see {@link rotaryEmbedding}.
 *
 * @example
 * ```ts
 * const rope = new RotaryEmbedding(64);
 * const q2 = rope.forward(q, startPos); // q (B, H, T, 64)
 * ```
 */
export class RotaryEmbedding extends Module {
  readonly headDim: number;
  readonly base: number;
  cos: Buffer;
  sin: Buffer;

  constructor(headDim: number, opts: RotaryEmbeddingOptions = {}) {
    super();
    this.headDim = checkInt('RotaryEmbedding', 'headDim', headDim);
    if (headDim % 2 !== 0) fail('RotaryEmbedding', `headDim must be even, got ${headDim}`);
    this.base = checkPositive('RotaryEmbedding', 'base', opts.base ?? 10000);
    const maxLen = checkInt('RotaryEmbedding', 'maxLen', opts.maxLen ?? 2048);
    const dtype = checkDtype('RotaryEmbedding', opts.dtype ?? 'float32');
    [this.cos, this.sin] = this.#table(maxLen, dtype);
  }

  #table(len: number, dtype: FloatDType, backend?: Backend): [Buffer, Buffer] {
    const positions = Array.from({ length: len }, (_, m) => m);
    const { cos, sin } = angleTable(positions, this.headDim, this.base);
    const shape = [len, this.headDim / 2];
    return [
      new Buffer(tensor(cos, { shape, dtype, backend }), { persistent: false }),
      new Buffer(tensor(sin, { shape, dtype, backend }), { persistent: false }),
    ];
  }

  /** Number of positions the cached table holds now. */
  get maxLen(): number {
    return this.cos.shape[0];
  }

  /** Grows the table (doubling) until it covers positions < `needed`. */
  #ensure(needed: number): void {
    if (needed <= this.maxLen) return;
    let len = this.maxLen;
    while (len < needed) len *= 2;
    const [cos, sin] = this.#table(len, this.cos.dtype as FloatDType, this.cos.backend);
    this.cos.dispose();
    this.sin.dispose();
    this.cos = cos;
    this.sin = sin;
  }

  /** x (…, T, D) at positions (start, list or int32 tensor (T,)) → rotated x, same shape. */
  forward(x: Tensor, positions: RopePositions = 0): Tensor {
    const where = 'RotaryEmbedding.forward';
    const [T] = checkRopeInput(where, x, this.headDim);
    if (positions instanceof Tensor) {
      checkPositionTensor(where, positions, T);
      if (positions.backend.readSync && T > 0) {
        const data = positions.dataSync();
        let top = 0;
        for (const p of data) {
          if (p < 0) fail(where, `positions must be non-negative, got ${p}`);
          top = Math.max(top, p);
        }
        this.#ensure(top + 1);
      }
      return scope(() => applyRotary(x, this.cos.indexSelect(0, positions), this.sin.indexSelect(0, positions)));
    }
    const list = positionList(where, positions, T);
    if (typeof positions === 'number') {
      this.#ensure(positions + T);
      return scope(() => applyRotary(x, this.cos.slice([[positions, positions + T]]), this.sin.slice([[positions, positions + T]])));
    }
    this.#ensure(Math.max(0, ...list) + 1);
    return scope(() => {
      const idx = tensor(list, { dtype: 'int32', backend: x.backend });
      return applyRotary(x, this.cos.indexSelect(0, idx), this.sin.indexSelect(0, idx));
    });
  }

  override extraRepr(): string {
    return `head_dim=${this.headDim}, base=${this.base}`;
  }
}

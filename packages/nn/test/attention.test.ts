/**
 * Attention: scaledDotProductAttention and MultiheadAttention against plain-JS float64
 * references (softmax loops, per-head projections written out), mask semantics, causality,
 * padding, grouped-query and multi-query attention, KV-cached decoding against full
 * recomputation, cross-attention, gradients, errors and memory.
 */
import { backward, gradcheck, noGrad } from '@ml/autograd';
import { KVCache, MultiheadAttention, causalMask, rotaryEmbedding, scaledDotProductAttention } from '@ml/nn';
import { concat, memory, random, scope, tensor } from '@ml/tensor';
import type { Tensor } from '@ml/tensor';
import { describe, expect, it } from 'vitest';
import { U, expectFlatMemory } from './layer-helpers.js';
import { checkParamGrads } from './param-grads.js';

type Mat = number[][];

function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Number.isNaN(a[i]) || Number.isNaN(b[i]) ? Infinity : Math.abs(a[i] - b[i]));
  return m;
}
const flat = (t: Tensor | number[] | Mat | Mat[] | Mat[][]): number[] => (Array.isArray(t) ? (t.flat(3) as number[]) : Array.from(t.dataSync()));

// ---- plain-JS references ----------------------------------------------------------------------

/**
 * One head: out[i] = Σⱼ softmax_j(q[i]·k[j]·scale + bias(i, j)) v[j], where bias is −∞ for
 * disallowed pairs; a row with no allowed key is zeros.
 */
function refHead(q: Mat, k: Mat, v: Mat, scale: number, bias: (i: number, j: number) => number = () => 0): Mat {
  return q.map((qi, i) => {
    const s = k.map((kj, j) => qi.reduce((a, x, c) => a + x * kj[c], 0) * scale + bias(i, j));
    const m = Math.max(...s);
    if (m === -Infinity) return new Array<number>(v[0].length).fill(0);
    const e = s.map((x) => Math.exp(x - m));
    const z = e.reduce((a, b) => a + b, 0);
    return v[0].map((_, c) => e.reduce((a, w, j) => a + (w / z) * v[j][c], 0));
  });
}

/** x·Wᵀ + b for each row. */
const project = (x: Mat, W: Mat, b?: number[]): Mat => x.map((row) => W.map((w, o) => w.reduce((a, wi, i) => a + wi * row[i], b ? b[o] : 0)));

interface RefOptions { causal?: boolean; allowed?: (b: number, i: number, j: number) => boolean; context?: Mat[]; rope?: boolean; startPos?: number }

/** Rotate-half RoPE of one row at position m. */
function ropeRow(x: number[], m: number): number[] {
  const D = x.length;
  const h = D / 2;
  return x.map((_, c) => {
    const i = c % h;
    const a = m * Math.pow(10000, (-2 * i) / D);
    return c < h ? x[c] * Math.cos(a) - x[c + h] * Math.sin(a) : x[c] * Math.cos(a) + x[c - h] * Math.sin(a);
  });
}

/** Multi-head attention written out: per batch and head, project, attend, concatenate, project. */
function refMHA(m: MultiheadAttention, x: Mat[], o: RefOptions = {}): Mat[] {
  const W = (l: { weight: Tensor; bias: Tensor | null }) => [l.weight.arraySync() as Mat, l.bias?.arraySync() as number[] | undefined] as const;
  const [Wq, bq] = W(m.qProj);
  const [Wk, bk] = W(m.kProj);
  const [Wv, bv] = W(m.vProj);
  const [Wo, bo] = W(m.oProj);
  const d = m.headDim;
  const group = m.numHeads / m.numKvHeads;
  const start = o.startPos ?? 0;
  return x.map((xb, b) => {
    const src = o.context ? o.context[b] : xb;
    const Q = project(xb, Wq, bq);
    const K = project(src, Wk, bk);
    const V = project(src, Wv, bv);
    const heads: Mat[] = [];
    for (let h = 0; h < m.numHeads; h++) {
      const g = Math.floor(h / group);
      let qh = Q.map((r) => r.slice(h * d, h * d + d));
      let kh = K.map((r) => r.slice(g * d, g * d + d));
      const vh = V.map((r) => r.slice(g * d, g * d + d));
      if (o.rope) {
        qh = qh.map((r, t) => ropeRow(r, start + t));
        kh = kh.map((r, t) => ropeRow(r, start + t));
      }
      const bias = (i: number, j: number) => ((o.causal && j > i) || (o.allowed && !o.allowed(b, i, j)) ? -Infinity : 0);
      heads.push(refHead(qh, kh, vh, 1 / Math.sqrt(d), bias));
    }
    const cat = xb.map((_, t) => heads.flatMap((hd) => hd[t]));
    return project(cat, Wo, bo);
  });
}

// ---- scaledDotProductAttention ----------------------------------------------------------------

describe('scaledDotProductAttention', () => {
  const q = U(1, [2, 3, 4, 5]); // (B, H, L, d)
  const k = U(2, [2, 3, 6, 5]); // (B, H, S, d)
  const v = U(3, [2, 3, 6, 7]); // (B, H, S, dv)
  const slices = (t: Tensor) => (t.arraySync() as Mat[][]).flat(1); // per (b, h)
  /** Reference over every (b, h) with a bias function of (bh, i, j). */
  const ref = (scale: number, bias?: (bh: number, i: number, j: number) => number) =>
    slices(q).map((qh, bh) => refHead(qh, slices(k)[bh], slices(v)[bh], scale, bias && ((i, j) => bias(bh, i, j))));

  it('is softmax(q·kᵀ/√d)·v with d the head dim; a custom scale replaces 1/√d', () => {
    expect(maxDiff(flat(scaledDotProductAttention(q, k, v)), flat(ref(1 / Math.sqrt(5))))).toBeLessThan(1e-14);
    expect(maxDiff(flat(scaledDotProductAttention(q, k, v, { scale: 0.3 })), flat(ref(0.3)))).toBeLessThan(1e-14);
    // broadcasting leading dims: one k/v for every head
    const k1 = k.slice([null, [0, 1]]);
    const v1 = v.slice([null, [0, 1]]);
    const out = scaledDotProductAttention(q, k1, v1);
    expect(out.shape).toEqual([2, 3, 4, 7]);
    const r = slices(q).map((qh, bh) => refHead(qh, slices(k)[Math.floor(bh / 3) * 3], slices(v)[Math.floor(bh / 3) * 3], 1 / Math.sqrt(5)));
    expect(maxDiff(flat(out), flat(r))).toBeLessThan(1e-14);
  });

  it('boolean masks are true = attend; float masks are added; both broadcast', () => {
    const allowed = (i: number, j: number) => (i * 7 + j * 3) % 4 !== 0;
    const boolMask = tensor(Array.from({ length: 4 }, (_, i) => Array.from({ length: 6 }, (_, j) => allowed(i, j)))); // (L, S)
    const r = ref(1 / Math.sqrt(5), (_, i, j) => (allowed(i, j) ? 0 : -Infinity));
    expect(maxDiff(flat(scaledDotProductAttention(q, k, v, { mask: boolMask })), flat(r))).toBeLessThan(1e-14);
    const floatMask = U(4, [3, 4, 6]); // (H, L, S), an additive bias per head
    const fm = floatMask.arraySync() as Mat[];
    const rf = ref(1 / Math.sqrt(5), (bh, i, j) => fm[bh % 3][i][j]);
    expect(maxDiff(flat(scaledDotProductAttention(q, k, v, { mask: floatMask })), flat(rf))).toBeLessThan(1e-14);
    // a float mask of 0 / −∞ equals the boolean mask
    const asFloat = scope(() => boolMask.logicalNot().cast('float64').mul(-1e300).mul(1e300)); // −∞ where masked
    expect(maxDiff(flat(scaledDotProductAttention(q, k, v, { mask: asFloat })), flat(r))).toBeLessThan(1e-14);
  });

  it('causal is the lower triangle including the diagonal, aligned at the bottom right', () => {
    expect(causalMask(3, 3).arraySync()).toEqual([[true, false, false], [true, true, false], [true, true, true]]);
    expect(causalMask(2, 4).arraySync()).toEqual([[true, true, true, false], [true, true, true, true]]);
    const qs = q.slice([null, null, [0, 4]]);
    const ks = k.slice([null, null, [0, 4]]);
    const vs = v.slice([null, null, [0, 4]]);
    const r = slices(qs).map((qh, bh) => refHead(qh, slices(ks)[bh], slices(vs)[bh], 1 / Math.sqrt(5), (i, j) => (j <= i ? 0 : -Infinity)));
    expect(maxDiff(flat(scaledDotProductAttention(qs, ks, vs, { causal: true })), flat(r))).toBeLessThan(1e-14);
    // L = 4 queries over S = 6 keys: query i sees keys j ≤ i + 2
    const r2 = ref(1 / Math.sqrt(5), (_, i, j) => (j <= i + 2 ? 0 : -Infinity));
    expect(maxDiff(flat(scaledDotProductAttention(q, k, v, { causal: true })), flat(r2))).toBeLessThan(1e-14);
  });

  it('fully masked rows give zeros and zero, finite gradients (not NaN)', () => {
    const mask = tensor([[true, true, false, false, false, false], [false, false, false, false, false, false], [true, false, false, false, false, true], [false, false, false, false, false, false]]);
    const out = scaledDotProductAttention(q, k, v, { mask });
    const o = out.arraySync() as Mat[][];
    for (const bh of o.flat(1)) {
      expect(bh[1]).toEqual(new Array(7).fill(0));
      expect(bh[3]).toEqual(new Array(7).fill(0));
    }
    const r = ref(1 / Math.sqrt(5), (_, i, j) => ((mask.arraySync() as boolean[][])[i][j] ? 0 : -Infinity));
    expect(maxDiff(flat(out), flat(r))).toBeLessThan(1e-14);
    // also when the −∞ comes from a float mask, or from causal alignment with L > S
    const ninf = scope(() => mask.logicalNot().cast('float64').mul(-1e300).mul(1e300));
    expect(maxDiff(flat(scaledDotProductAttention(q, k, v, { mask: ninf })), flat(r))).toBeLessThan(1e-14);
    const wide = scaledDotProductAttention(k, q, U(5, [2, 3, 4, 7]), { causal: true }); // L = 6 > S = 4: rows 0, 1 see nothing
    const w = wide.arraySync() as Mat[][];
    expect(w[1][2][0].every((x) => x === 0) && w[1][2][1].every((x) => x === 0)).toBe(true);
    expect(w[1][2][2].some((x) => x !== 0)).toBe(true);
    const g = gradcheck((q, k, v) => scaledDotProductAttention(q, k, v, { mask }), [U(6, [1, 4, 3]), U(7, [1, 6, 3]), U(8, [1, 6, 2])]);
    expect(g.ok, g.message).toBe(true);
  });

  it('gradcheck with a causal and a float mask', () => {
    const fm = U(9, [3, 3]);
    const g = gradcheck((q, k, v, m) => scaledDotProductAttention(q, k, v, { causal: true, mask: m }), [U(10, [2, 3, 4]), U(11, [2, 3, 4]), U(12, [2, 3, 2]), fm]);
    expect(g.ok, g.message).toBe(true);
  });

  it('dropout on the weights: same key, same result; p = 0 is exact; the mean is kept', () => {
    const a = scaledDotProductAttention(q, k, v, { dropoutP: 0.5, key: random.key(1) });
    const b = scaledDotProductAttention(q, k, v, { dropoutP: 0.5, key: random.key(1) });
    const c = scaledDotProductAttention(q, k, v, { dropoutP: 0.5, key: random.key(2) });
    expect(maxDiff(flat(a), flat(b))).toBe(0);
    expect(maxDiff(flat(a), flat(c))).toBeGreaterThan(1e-3);
    expect(maxDiff(flat(scaledDotProductAttention(q, k, v, { dropoutP: 0 })), flat(scaledDotProductAttention(q, k, v)))).toBe(0);
    // with v = 1 every output is Σ dropped weights; E = 1. 200 keys, p = 0.2, 64 queries.
    const qq = U(13, [64, 4]);
    const kk = U(14, [200, 4]);
    const ones = scope(() => U(15, [200, 1]).mul(0).add(1));
    const y = flat(scaledDotProductAttention(qq, kk, ones, { dropoutP: 0.2, key: random.key(3) }));
    const mean = y.reduce((s, x) => s + x, 0) / y.length;
    // each output has variance ≈ Σ w²·p/(1−p) ≈ (1/200)·0.25; the mean of 64 has sd ≈ 0.0044
    expect(Math.abs(mean - 1)).toBeLessThan(0.02);
  });

  it('errors name the argument and the shapes', () => {
    expect(() => scaledDotProductAttention(U(1, [2, 4, 5]), U(1, [2, 6, 4]), U(1, [2, 6, 7]))).toThrow('scaledDotProductAttention: q and k must have the same last dim: q (2, 4, 5), k (2, 6, 4), v (2, 6, 7)');
    expect(() => scaledDotProductAttention(U(1, [2, 4, 5]), U(1, [2, 6, 5]), U(1, [2, 5, 7]))).toThrow(/k and v must have the same number of keys S/);
    expect(() => scaledDotProductAttention(U(1, [2, 4, 5]), U(1, [3, 6, 5]), U(1, [3, 6, 7]))).toThrow(/the leading dims of q, k and v do not broadcast/);
    expect(() => scaledDotProductAttention(U(1, [2, 4, 5]), U(1, [2, 6, 5]), U(1, [2, 6, 7]), { mask: tensor([[true, false]]) })).toThrow('scaledDotProductAttention: mask (1, 2) does not broadcast to the scores (2, 4, 6) (…, L, S)');
    expect(() => scaledDotProductAttention(U(1, [2, 4, 5]), U(1, [2, 6, 5]), U(1, [2, 6, 7]), { mask: U(1, [3, 4, 6]) })).toThrow(/does not broadcast to the scores/);
    expect(() => scaledDotProductAttention(U(1, [4]), U(1, [2, 6, 5]), U(1, [2, 6, 7]))).toThrow('scaledDotProductAttention: q must be (…, L, d), got (4,)');
  });
});

// ---- MultiheadAttention -----------------------------------------------------------------------

const B = 2, T = 5, C = 8;

describe('MultiheadAttention', () => {
  const x = U(20, [B, T, C]);
  const xs = x.arraySync() as Mat[];

  it('has Llama/HF projection names and shapes (GQA, MQA)', () => {
    const gqa = new MultiheadAttention(C, 4, { numKvHeads: 2, bias: false });
    expect(scope(() => Object.entries(gqa.stateDict({ naming: 'pytorch' })).map(([n, t]) => [n, t.shape]))).toEqual([
      ['q_proj.weight', [8, 8]], ['k_proj.weight', [4, 8]], ['v_proj.weight', [4, 8]], ['o_proj.weight', [8, 8]],
    ]);
    const mqa = new MultiheadAttention(C, 4, { numKvHeads: 1, rope: true });
    expect(mqa.kProj.weight.shape).toEqual([2, 8]);
    expect(mqa.vProj.bias!.shape).toEqual([2]);
    expect(scope(() => Object.keys(mqa.stateDict()))).not.toContain('rotary.cos');
    expect(mqa.forward(U(21, [B, T, C], 'float32'), { causal: true }).shape).toEqual([B, T, C]);
    for (const m of [gqa, mqa]) m.dispose();
  });

  it('with numKvHeads = numHeads equals the reference multi-head attention (plain, causal, masked)', () => {
    const m = new MultiheadAttention(C, 2, { dtype: 'float64' });
    expect(maxDiff(flat(m.forward(x)), flat(refMHA(m, xs)))).toBeLessThan(1e-13);
    expect(maxDiff(flat(m.forward(x, { causal: true })), flat(refMHA(m, xs, { causal: true })))).toBeLessThan(1e-13);
    const allowed = (_b: number, i: number, j: number) => (i + 2 * j) % 3 !== 1;
    const mask = tensor(Array.from({ length: T }, (_, i) => Array.from({ length: T }, (_, j) => allowed(0, i, j))));
    expect(maxDiff(flat(m.forward(x, { mask })), flat(refMHA(m, xs, { allowed })))).toBeLessThan(1e-13);
    m.dispose();
  });

  it('grouped-query and multi-query attention equal the reference with shared K/V heads', () => {
    for (const kv of [2, 1]) {
      const m = new MultiheadAttention(C, 4, { numKvHeads: kv, dtype: 'float64', rope: true });
      expect(maxDiff(flat(m.forward(x, { causal: true })), flat(refMHA(m, xs, { causal: true, rope: true })))).toBeLessThan(1e-13);
      // and equal full multi-head attention whose K/V weights repeat each K/V head for its group
      const full = new MultiheadAttention(C, 4, { dtype: 'float64', rope: true });
      const repeat = (t: Tensor) => scope(() => {
        const rows = t.split(2, 0); // one block of headDim = 2 rows per K/V head
        return concat(rows.flatMap((r) => new Array<Tensor>(4 / kv).fill(r)), 0);
      });
      full.loadStateDict({
        'qProj.weight': m.qProj.weight, 'qProj.bias': m.qProj.bias!, 'oProj.weight': m.oProj.weight, 'oProj.bias': m.oProj.bias!,
        'kProj.weight': repeat(m.kProj.weight), 'kProj.bias': repeat(m.kProj.bias!), 'vProj.weight': repeat(m.vProj.weight), 'vProj.bias': repeat(m.vProj.bias!),
      });
      expect(maxDiff(flat(m.forward(x, { causal: true })), flat(full.forward(x, { causal: true })))).toBeLessThan(1e-14);
      m.dispose();
      full.dispose();
    }
  });

  it('is causal: the output at t does not change when inputs after t change', () => {
    const m = new MultiheadAttention(C, 4, { numKvHeads: 2, rope: true, dtype: 'float64' });
    const y = m.forward(x, { causal: true }).arraySync() as Mat[];
    for (const t of [0, 2, 4]) {
      const changed = scope(() => concat([x.slice([null, [0, t + 1]]), U(30 + t, [B, T - t - 1, C])], 1));
      const y2 = m.forward(changed, { causal: true }).arraySync() as Mat[];
      for (let b = 0; b < B; b++) {
        for (let s = 0; s <= t; s++) expect(maxDiff(y2[b][s], y[b][s])).toBe(0);
        if (t < T - 1) expect(maxDiff(y2[b][T - 1], y[b][T - 1])).toBeGreaterThan(1e-6);
      }
    }
    m.dispose();
  });

  it('keyPaddingMask (true = pad) hides those keys, alone or with other masks', () => {
    const m = new MultiheadAttention(C, 2, { dtype: 'float64' });
    const padded = [[false, false, false, true, true], [false, false, false, false, true]];
    const pad = tensor(padded);
    const allowed = (b: number, _i: number, j: number) => !padded[b][j];
    expect(maxDiff(flat(m.forward(x, { keyPaddingMask: pad })), flat(refMHA(m, xs, { allowed })))).toBeLessThan(1e-13);
    // with causal, and with a boolean and a float mask
    expect(maxDiff(flat(m.forward(x, { keyPaddingMask: pad, causal: true })), flat(refMHA(m, xs, { allowed, causal: true })))).toBeLessThan(1e-13);
    const extra = (_b: number, i: number, j: number) => i !== j;
    const boolMask = tensor(Array.from({ length: T }, (_, i) => Array.from({ length: T }, (_, j) => i !== j)));
    const both = (b: number, i: number, j: number) => allowed(b, i, j) && extra(b, i, j);
    expect(maxDiff(flat(m.forward(x, { keyPaddingMask: pad, mask: boolMask })), flat(refMHA(m, xs, { allowed: both })))).toBeLessThan(1e-13);
    const floatMask = scope(() => boolMask.logicalNot().cast('float64').mul(-1e300).mul(1e300));
    expect(maxDiff(flat(m.forward(x, { keyPaddingMask: pad, mask: floatMask })), flat(refMHA(m, xs, { allowed: both })))).toBeLessThan(1e-13);
    // the padded keys' inputs do not matter to the other positions... of any query
    const x2 = scope(() => concat([x.slice([[0, 1]]), concat([x.slice([1, [0, 4]]).unsqueeze(0), U(40, [1, 1, C])], 1)], 0));
    const a = m.forward(x, { keyPaddingMask: pad }).slice([1, [0, 4]]);
    const b = m.forward(x2, { keyPaddingMask: pad }).slice([1, [0, 4]]);
    expect(maxDiff(flat(a), flat(b))).toBeLessThan(1e-14);
    m.dispose();
  });

  it('cross-attention reads keys and values from the context', () => {
    const m = new MultiheadAttention(C, 2, { contextDim: 3, dtype: 'float64' });
    const ctx = U(41, [B, 7, 3]);
    const y = m.forward(x, { context: ctx });
    expect(y.shape).toEqual([B, T, C]);
    expect(maxDiff(flat(y), flat(refMHA(m, xs, { context: ctx.arraySync() as Mat[] })))).toBeLessThan(1e-13);
    const pad = tensor([[false, false, true, true, true, true, true], [false, false, false, false, false, false, false]]);
    const allowed = (b: number, _i: number, j: number) => b === 1 || j < 2;
    expect(maxDiff(flat(m.forward(x, { context: ctx, keyPaddingMask: pad })), flat(refMHA(m, xs, { context: ctx.arraySync() as Mat[], allowed })))).toBeLessThan(1e-13);
    m.dispose();
  });
});

describe('KV-cached decoding', () => {
  for (const [label, opts, dtype, tol] of [
    ['MHA float32', { numKvHeads: 4 }, 'float32', 1e-5],
    ['GQA + RoPE float32', { numKvHeads: 2, rope: true }, 'float32', 1e-5],
    ['MQA + RoPE float64', { numKvHeads: 1, rope: true }, 'float64', 1e-12],
  ] as const) {
    it(`equals full causal recomputation: ${label}`, () => {
      const m = new MultiheadAttention(C, 4, { ...opts, dtype });
      const L = 7;
      const x = U(50, [B, L, C], dtype);
      const full = m.forward(x, { causal: true });
      const cache = m.createCache(B, 10);
      noGrad(() => {
        const parts = [m.forward(x.slice([null, [0, 3]]), { cache, causal: true })]; // a 3-token prompt
        for (let t = 3; t < L; t++) parts.push(m.forward(x.slice([null, [t, t + 1]]), { cache })); // one at a time
        expect(cache.length).toBe(L);
        expect(maxDiff(flat(concat(parts, 1)), flat(full))).toBeLessThan(tol);
        // rewinding: regenerate the last two positions from startPos 5
        const again = m.forward(x.slice([null, [5, 7]]), { cache, causal: true, startPos: 5 });
        expect(maxDiff(flat(again), flat(full.slice([null, [5, 7]])))).toBeLessThan(tol);
      });
      cache.dispose();
      m.dispose();
    });
  }

  it('refuses overflow, gaps and mismatched caches; memory stays flat while decoding', () => {
    const m = new MultiheadAttention(C, 4, { numKvHeads: 2 });
    const cache = m.createCache(1, 4);
    const x = U(51, [1, 3, C], 'float32');
    noGrad(() => {
      m.forward(x, { cache, causal: true });
      expect(() => m.forward(x.slice([null, [0, 2]]), { cache })).toThrow('KVCache.update: cannot write 2 position(s) at startPos 3: the cache holds maxLen = 4');
      expect(() => m.forward(x.slice([null, [0, 1]]), { cache, startPos: 5 })).toThrow('KVCache.update: startPos 5 is past the 3 filled positions: positions in between would be garbage');
      expect(() => m.forward(U(52, [2, 1, C], 'float32'), { cache })).toThrow('MultiheadAttention.forward: the cache holds (1, 2, 4, 2), this layer needs (2, 2, maxLen, 2)');
      expect(() => m.forward(x, { cache: new KVCache(1, 2, 4, 2) as KVCache, context: x })).toThrow(/a KV cache is for self-attention/);
      cache.reset();
      m.forward(x, { cache, causal: true });
      const before = memory();
      for (let i = 0; i < 3; i++) {
        cache.length = 3;
        scope(() => void m.forward(x.slice([null, [0, 1]]), { cache }));
      }
      expect(memory()).toEqual(before);
    });
    cache.dispose();
    m.dispose();
  });
});

describe('gradients', () => {
  it('gradcheck with respect to x and the context', () => {
    const m = new MultiheadAttention(4, 2, { numKvHeads: 1, dtype: 'float64', rope: true });
    const r = gradcheck((x) => m.forward(x, { causal: true }), [U(60, [2, 3, 4])]);
    expect(r.ok, r.message).toBe(true);
    const c = new MultiheadAttention(4, 2, { dtype: 'float64', contextDim: 3 });
    const r2 = gradcheck((x, ctx) => c.forward(x, { context: ctx }), [U(61, [1, 3, 4]), U(62, [1, 2, 3])]);
    expect(r2.ok, r2.message).toBe(true);
    m.dispose();
    c.dispose();
  });

  it('parameter gradients from backward match finite differences', () => {
    const m = new MultiheadAttention(4, 2, { numKvHeads: 1, dtype: 'float64' });
    const x = U(63, [2, 3, 4]);
    const loss = () => scope(() => { const y = m.forward(x, { causal: true }); return y.mul(y.add(0.5)).sum(); });
    checkParamGrads(m, loss);
    m.dispose();
  });
});

describe('MultiheadAttention errors and memory', () => {
  it('bad configurations and inputs throw clear errors', () => {
    expect(() => new MultiheadAttention(10, 4)).toThrow('MultiheadAttention: embedDim (10) must be divisible by numHeads (4)');
    expect(() => new MultiheadAttention(12, 4, { numKvHeads: 3 })).toThrow('MultiheadAttention: numHeads (4) must be divisible by numKvHeads (3)');
    expect(() => new MultiheadAttention(12, 4, { dropout: 1 })).toThrow(/dropout must be a probability in \[0, 1\)/);
    expect(() => new MultiheadAttention(12, 6, { rope: true })).not.toThrow();
    expect(() => new MultiheadAttention(12, 4, { rope: true })).toThrow('RotaryEmbedding: headDim must be even, got 3');
    const m = new MultiheadAttention(C, 2);
    expect(() => m.forward(U(1, [T, C], 'float32'))).toThrow('MultiheadAttention.forward: expected x (B, T, 8), got (5, 8)');
    expect(() => m.forward(U(1, [B, T, 6], 'float32'))).toThrow('MultiheadAttention.forward: expected x (B, T, 8), got (2, 5, 6)');
    expect(() => m.forward(U(1, [B, T, C], 'float32'), { keyPaddingMask: tensor([[false, true]]) })).toThrow('MultiheadAttention.forward: expected a bool keyPaddingMask (2, 5) (B, S), got bool (1, 2)');
    expect(() => m.forward(U(1, [B, T, C], 'float32'), { context: U(1, [B, 3, 5], 'float32') })).toThrow('MultiheadAttention.forward: expected context (2, S, 8) for x (2, 5, 8), got (2, 3, 5)');
    expect(() => m.forward(U(1, [B, T, C], 'float32'), { mask: tensor([[true, false, true]]) })).toThrow(/mask \(1, 3\) does not broadcast to the scores \(2, 2, 5, 5\)/);
    m.dispose();
  });

  it('dropout acts in training only; memory is flat over repeated calls', () => {
    const m = new MultiheadAttention(C, 2, { dropout: 0.5, key: random.key(7) });
    const x = U(70, [B, T, C], 'float32');
    const a = flat(m.forward(x));
    const b = flat(m.forward(x));
    expect(maxDiff(a, b)).toBeGreaterThan(1e-4);
    m.eval();
    expect(maxDiff(flat(m.forward(x)), flat(m.forward(x)))).toBe(0);
    m.train();
    const step = () => scope(() => {
      const y = m.forward(x, { causal: true, keyPaddingMask: tensor([[false, false, false, false, true], [false, false, false, false, false]]) });
      backward(y.sum());
      m.zeroGrad();
    });
    expectFlatMemory(step, () => m.forward(x));
    m.dispose();
  });

  it('rotaryEmbedding is what MultiheadAttention applies to queries and keys', () => {
    // a one-head layer with identity projections: scores are ⟨RoPE(x_i, i), RoPE(x_j, j)⟩/√C
    const m = new MultiheadAttention(4, 1, { bias: false, rope: true, dtype: 'float64' });
    const eye = tensor([[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, 0], [0, 0, 0, 1]], { dtype: 'float64' });
    for (const l of [m.qProj, m.kProj, m.vProj, m.oProj]) l.weight.assign(eye);
    const x = U(80, [1, 3, 4]);
    const r = rotaryEmbedding(x, 0);
    const expected = scaledDotProductAttention(r, r, x, { causal: true });
    expect(maxDiff(flat(m.forward(x, { causal: true })), flat(expected))).toBeLessThan(1e-15);
    m.dispose();
  });
});

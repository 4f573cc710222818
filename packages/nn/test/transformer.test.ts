/**
 * TransformerBlock against a hand-written float64 composition in plain JS (LayerNorm/RMSNorm,
 * multi-head attention with GQA and RoPE, GELU MLP/SwiGLU, residuals), its gradients, the causal
 * default, KV-cached decoding through a stack of blocks, dropout, state-dict names, errors and memory.
 */
import { backward, gradcheck, noGrad } from '@ml/autograd';
import { MultiheadAttention, TransformerBlock } from '@ml/nn';
import type { Module } from '@ml/nn';
import { concat, random, scope } from '@ml/tensor';
import type { Tensor } from '@ml/tensor';
import { describe, expect, it } from 'vitest';
import { U, erf, expectFlatMemory } from './layer-helpers.js';
import { checkParamGrads } from './param-grads.js';

type Vec = number[];
type Mat = number[][];
const flat = (t: Tensor) => Array.from(t.dataSync());
function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

// ---- the reference composition, one formula at a time ------------------------------------------

const project = (x: Mat, W: Mat, b?: Vec | null): Mat => x.map((row) => W.map((w, o) => w.reduce((a, wi, i) => a + wi * row[i], b ? b[o] : 0)));
const addM = (a: Mat, b: Mat): Mat => a.map((r, i) => r.map((v, j) => v + b[i][j]));
const arr = (t: Tensor | null | undefined) => (t ? (t.arraySync() as Vec & Mat) : null);

function layerNormRef(x: Mat, g: Vec | null, b: Vec | null, eps: number): Mat {
  return x.map((r) => {
    const mu = r.reduce((s, v) => s + v, 0) / r.length;
    const varr = r.reduce((s, v) => s + (v - mu) ** 2, 0) / r.length;
    return r.map((v, j) => ((v - mu) / Math.sqrt(varr + eps)) * (g ? g[j] : 1) + (b ? b[j] : 0));
  });
}
function rmsNormRef(x: Mat, g: Vec, eps: number): Mat {
  return x.map((r) => {
    const ms = r.reduce((s, v) => s + v * v, 0) / r.length;
    return r.map((v, j) => (v / Math.sqrt(ms + eps)) * g[j]);
  });
}
const gelu = (u: number) => 0.5 * u * (1 + erf(u / Math.SQRT2));
const silu = (u: number) => u / (1 + Math.exp(-u));
function ropeRow(x: Vec, m: number): Vec {
  const h = x.length / 2;
  return x.map((_, c) => {
    const a = m * Math.pow(10000, (-2 * (c % h)) / x.length);
    return c < h ? x[c] * Math.cos(a) - x[c + h] * Math.sin(a) : x[c] * Math.cos(a) + x[c - h] * Math.sin(a);
  });
}
/** Causal attention of one sequence x (T, C): heads, GQA groups, optional RoPE. */
function attentionRef(m: MultiheadAttention, x: Mat, rope: boolean): Mat {
  const L = (l: { weight: Tensor; bias: Tensor | null }) => project.bind(null, x, arr(l.weight) as Mat, arr(l.bias) as Vec | null);
  const Q = L(m.qProj)();
  const K = L(m.kProj)();
  const V = L(m.vProj)();
  const d = m.headDim;
  const group = m.numHeads / m.numKvHeads;
  const heads: Mat[] = [];
  for (let h = 0; h < m.numHeads; h++) {
    const g = Math.floor(h / group);
    const rot = (r: Vec, t: number) => (rope ? ropeRow(r, t) : r);
    const q = Q.map((r, t) => rot(r.slice(h * d, h * d + d), t));
    const k = K.map((r, t) => rot(r.slice(g * d, g * d + d), t));
    const v = V.map((r) => r.slice(g * d, g * d + d));
    heads.push(q.map((qi, i) => {
      const s = k.slice(0, i + 1).map((kj) => qi.reduce((a, x, c) => a + x * kj[c], 0) / Math.sqrt(d));
      const mx = Math.max(...s);
      const e = s.map((x) => Math.exp(x - mx));
      const z = e.reduce((a, b) => a + b, 0);
      return v[0].map((_, c) => e.reduce((a, w, j) => a + (w / z) * v[j][c], 0));
    }));
  }
  const cat = x.map((_, t) => heads.flatMap((hd) => hd[t]));
  return project(cat, arr(m.oProj.weight) as Mat, arr(m.oProj.bias) as Vec | null);
}

/** The block by hand: x + attn(norm1(x)), then + mlp(norm2(·)). */
function blockRef(block: TransformerBlock, x: Mat, cfg: { norm: 'layer' | 'rms'; mlp: 'gelu' | 'swiglu'; rope: boolean }): Mat {
  const norm = (ln: Module, r: Mat) => {
    const l = ln as unknown as { weight: Tensor; bias: Tensor | null; eps: number };
    return cfg.norm === 'layer' ? layerNormRef(r, arr(l.weight), arr(l.bias), l.eps) : rmsNormRef(r, arr(l.weight) as Vec, l.eps);
  };
  const h = addM(x, attentionRef(block.attn, norm(block.ln1, x), cfg.rope));
  const n2 = norm(block.ln2, h);
  const f = block.mlp as unknown as Record<string, { weight: Tensor; bias: Tensor | null }>;
  const P = (name: string, r: Mat) => project(r, arr(f[name].weight) as Mat, arr(f[name].bias) as Vec | null);
  let out: Mat;
  if (cfg.mlp === 'gelu') out = P('fc2', P('fc1', n2).map((r) => r.map(gelu)));
  else {
    const g = P('w1', n2);
    const u = P('w3', n2);
    out = P('w2', g.map((r, i) => r.map((v, j) => silu(v) * u[i][j])));
  }
  return addM(h, out);
}

/** Perturbs every parameter a little so norms' γ/β are not the trivial ones/zeros. */
function jiggle(m: Module, seed: number): void {
  m.parameters().forEach((p, i) => {
    const moved = scope(() => p.add(U(seed + i, [...p.shape]).mul(0.1)));
    p.assign(moved);
    moved.dispose();
  });
}

const CONFIGS = [
  { label: 'GPT-2 style (LayerNorm, GELU MLP, MHA)', norm: 'layer', mlp: 'gelu', rope: false, numKvHeads: 4, bias: true },
  { label: 'Llama style (RMSNorm, SwiGLU, GQA, RoPE, no bias)', norm: 'rms', mlp: 'swiglu', rope: true, numKvHeads: 2, bias: false },
  { label: 'LayerNorm without bias, MQA', norm: 'layer', mlp: 'gelu', rope: false, numKvHeads: 1, bias: false },
] as const;

describe('TransformerBlock', () => {
  for (const cfg of CONFIGS) {
    it(`equals the hand-written composition: ${cfg.label}`, () => {
      const block = new TransformerBlock(8, 4, { ...cfg, hiddenDim: cfg.mlp === 'swiglu' ? 12 : undefined, dtype: 'float64' });
      jiggle(block, 100);
      const x = U(1, [2, 5, 8]);
      const y = block.forward(x);
      expect(y.shape).toEqual([2, 5, 8]);
      const ref = (x.arraySync() as Mat[]).flatMap((xb) => blockRef(block, xb, cfg)).flat();
      expect(maxDiff(flat(y), ref)).toBeLessThan(1e-12);
      block.dispose();
    });
  }

  it('has nanoGPT/Llama-like state keys', () => {
    const gpt = new TransformerBlock(8, 2);
    expect(scope(() => Object.keys(gpt.stateDict({ naming: 'pytorch' })))).toEqual([
      'ln1.weight', 'ln1.bias',
      'attn.q_proj.weight', 'attn.q_proj.bias', 'attn.k_proj.weight', 'attn.k_proj.bias',
      'attn.v_proj.weight', 'attn.v_proj.bias', 'attn.o_proj.weight', 'attn.o_proj.bias',
      'ln2.weight', 'ln2.bias', 'mlp.fc1.weight', 'mlp.fc1.bias', 'mlp.fc2.weight', 'mlp.fc2.bias',
    ]);
    const llama = new TransformerBlock(8, 2, { norm: 'rms', mlp: 'swiglu', bias: false, rope: true, numKvHeads: 1, hiddenDim: 16 });
    expect(scope(() => Object.keys(llama.stateDict({ naming: 'pytorch' })))).toEqual([
      'ln1.weight', 'attn.q_proj.weight', 'attn.k_proj.weight', 'attn.v_proj.weight', 'attn.o_proj.weight',
      'ln2.weight', 'mlp.w1.weight', 'mlp.w2.weight', 'mlp.w3.weight',
    ]);
    for (const m of [gpt, llama]) m.dispose();
  });

  it('is causal by default; causal: false attends both ways', () => {
    const block = new TransformerBlock(8, 2, { dtype: 'float64' });
    const x = U(2, [1, 4, 8]);
    const y = flat(block.forward(x));
    const x2 = scope(() => concat([x.slice([null, [0, 2]]), U(3, [1, 2, 8])], 1));
    const y2 = flat(block.forward(x2));
    expect(maxDiff(y.slice(0, 16), y2.slice(0, 16))).toBe(0); // positions 0, 1 untouched
    expect(maxDiff(y.slice(16), y2.slice(16))).toBeGreaterThan(1e-6);
    const z = flat(block.forward(x, { causal: false }));
    const z2 = flat(block.forward(x2, { causal: false }));
    expect(maxDiff(z.slice(0, 8), z2.slice(0, 8))).toBeGreaterThan(1e-6);
    block.dispose();
  });

  it('gradients: gradcheck in x and finite differences in every parameter', () => {
    const block = new TransformerBlock(4, 2, { norm: 'rms', mlp: 'swiglu', rope: true, numKvHeads: 1, hiddenDim: 6, dtype: 'float64' });
    jiggle(block, 200);
    const r = gradcheck((x) => block.forward(x), [U(4, [2, 3, 4])]);
    expect(r.ok, r.message).toBe(true);
    const gpt = new TransformerBlock(4, 2, { hiddenDim: 6, dtype: 'float64' });
    jiggle(gpt, 300);
    const r2 = gradcheck((x) => gpt.forward(x), [U(5, [1, 3, 4])]);
    expect(r2.ok, r2.message).toBe(true);
    const x = U(6, [2, 3, 4]);
    checkParamGrads(gpt, () => scope(() => { const y = gpt.forward(x); return y.mul(y.add(0.5)).sum(); }));
    checkParamGrads(block, () => scope(() => { const y = block.forward(x); return y.mul(y.add(0.5)).sum(); }));
    block.dispose();
    gpt.dispose();
  });

  it('KV-cached decoding through a stack of blocks equals full recomputation', () => {
    const blocks = [0, 1].map((i) => new TransformerBlock(8, 4, { numKvHeads: 2, rope: true, norm: 'rms', mlp: 'swiglu', hiddenDim: 16, key: random.key(i) }));
    const x = U(7, [2, 6, 8], 'float32');
    const run = (h: Tensor, caches?: ReturnType<MultiheadAttention['createCache']>[]) =>
      blocks.reduce((acc, b, i) => b.forward(acc, { cache: caches?.[i] }), h);
    const full = run(x);
    const caches = blocks.map((b) => b.attn.createCache(2, 6));
    noGrad(() => {
      const parts = [run(x.slice([null, [0, 2]]), caches)];
      for (let t = 2; t < 6; t++) parts.push(run(x.slice([null, [t, t + 1]]), caches));
      expect(maxDiff(flat(concat(parts, 1)), flat(full))).toBeLessThan(1e-5);
    });
    for (const c of caches) c.dispose();
    for (const b of blocks) b.dispose();
  });

  it('dropout on both residual branches in training only', () => {
    const block = new TransformerBlock(8, 2, { dropout: 0.3, key: random.key(3) });
    const x = U(8, [2, 4, 8], 'float32');
    expect(maxDiff(flat(block.forward(x)), flat(block.forward(x)))).toBeGreaterThan(1e-4);
    block.eval();
    const evalOut = flat(block.forward(x));
    expect(maxDiff(evalOut, flat(block.forward(x)))).toBe(0);
    // eval equals a dropout-free block with the same weights
    const plain = new TransformerBlock(8, 2);
    plain.loadStateDict(scope(() => block.stateDict()));
    expect(maxDiff(evalOut, flat(plain.forward(x)))).toBe(0);
    // same key, same masks
    const again = new TransformerBlock(8, 2, { dropout: 0.3, key: random.key(3) });
    const fresh = new TransformerBlock(8, 2, { dropout: 0.3, key: random.key(3) });
    expect(maxDiff(flat(again.forward(x)), flat(fresh.forward(x)))).toBe(0);
    for (const m of [block, plain, again, fresh]) m.dispose();
  });

  it('bad options and inputs throw clear errors; memory is flat over training steps', () => {
    expect(() => new TransformerBlock(10, 4)).toThrow('MultiheadAttention: embedDim (10) must be divisible by numHeads (4)');
    expect(() => new TransformerBlock(8, 4, { numKvHeads: 3 })).toThrow('MultiheadAttention: numHeads (4) must be divisible by numKvHeads (3)');
    expect(() => new TransformerBlock(8, 2, { norm: 'batch' as 'layer' })).toThrow(`TransformerBlock: norm must be 'layer' or 'rms', got 'batch'`);
    expect(() => new TransformerBlock(8, 2, { mlp: 'relu' as 'gelu' })).toThrow(`TransformerBlock: mlp must be 'gelu' or 'swiglu', got 'relu'`);
    const block = new TransformerBlock(8, 2, { dropout: 0.1 });
    expect(() => block.forward(U(1, [4, 8], 'float32'))).toThrow('TransformerBlock.forward: expected x (B, T, 8), got (4, 8)');
    expect(() => block.forward(U(1, [2, 4, 6], 'float32'))).toThrow('TransformerBlock.forward: expected x (B, T, 8), got (2, 4, 6)');
    const x = U(9, [2, 4, 8], 'float32');
    const step = () => scope(() => {
      backward(block.forward(x).square().mean());
      block.zeroGrad();
    });
    expectFlatMemory(step, () => block.forward(x));
    block.dispose();
  });
});


import { describe, expect, it } from 'vitest';
import run from '../notes/normalization.js';
import { runNote, type Recording } from './record.js';

interface Row {
  layer: string;
  'μ, σ² pairs': number;
  'values per pair': number;
  'planes moved by the nudge': number;
  'max |layer − formula|': number;
}
interface Result {
  shape: [number, number, number, number];
  groups: number;
  x: number[];
  gamma: number[];
  beta: number[];
  rows: Row[];
  cells: { layer: string; sample: number; channel: number; moved: boolean }[];
  outputs: Record<string, { library: number[]; byHand: number[] }>;
  order: { formula: string; input: string; mean: number; std: number; values: number[] }[];
  layerNormOrder: { z: number[]; gamma: number; beta: number };
  running: {
    trueMean: number[];
    trueStd: number[];
    batchSize: number;
    steps: number;
    batches: number[][];
    trace: { step: number; channel: string; 'running mean': number; 'running var': number }[];
    runningMean: number[];
    runningVar: number[];
  };
  companions: { mode: string; 'max |y_A[0] − y_mixed[0]|': number; 'output mean': number; 'output std': number }[];
  singleError: string;
  single: number[];
  singleInput: number[];
}

const EPS = 1e-5;

/**
 * Plain float64 normalization of an (N, C, H, W) array: `group(n, c)` names the μ, σ² pair each
 * (n, c) plane belongs to (every norm here averages over all of H and W); then γ_c·x̂ + β_c.
 */
function normalizeRef(
  x: number[],
  [N, C, H, W]: number[],
  group: (n: number, c: number) => string,
  affine?: { gamma: number[]; beta: number[] },
): number[] {
  const sums = new Map<string, { s: number; s2: number; k: number }>();
  const at = (n: number, c: number, h: number, w: number) => ((n * C + c) * H + h) * W + w;
  for (let n = 0; n < N; n++)
    for (let c = 0; c < C; c++)
      for (let h = 0; h < H; h++)
        for (let w = 0; w < W; w++) {
          const g = sums.get(group(n, c)) ?? { s: 0, s2: 0, k: 0 };
          const v = x[at(n, c, h, w)];
          g.s += v;
          g.s2 += v * v;
          g.k += 1;
          sums.set(group(n, c), g);
        }
  const y = new Array<number>(x.length);
  for (let n = 0; n < N; n++)
    for (let c = 0; c < C; c++) {
      const { s, s2, k } = sums.get(group(n, c))!;
      const mean = s / k;
      const variance = s2 / k - mean * mean; // biased
      for (let h = 0; h < H; h++)
        for (let w = 0; w < W; w++) {
          const i = at(n, c, h, w);
          const xhat = (x[i] - mean) / Math.sqrt(variance + EPS);
          y[i] = affine ? affine.gamma[c] * xhat + affine.beta[c] : xhat;
        }
    }
  return y;
}

const maxDiff = (a: number[], b: number[]) => {
  expect(a).toHaveLength(b.length);
  return Math.max(...a.map((v, i) => Math.abs(v - b[i])));
};
const meanOf = (v: number[]) => v.reduce((s, a) => s + a, 0) / v.length;
const biasedStd = (v: number[]) => Math.sqrt(meanOf(v.map((a) => (a - meanOf(v)) ** 2)));

describe('note: normalization', async () => {
  const rec: Recording = await runNote(run);
  const r = rec.result as Result;
  const [N, C, H, W] = r.shape;
  const G = r.groups;
  const affine = { gamma: r.gamma, beta: r.beta };
  // Which (n, c) planes share statistics under each layer, and the float64 reference of each.
  const layers: Record<string, { group: (n: number, c: number) => string; affine?: typeof affine; pairs: number }> = {
    BatchNorm2d: { group: (_n, c) => `c${c}`, affine, pairs: C },
    LayerNorm: { group: (n) => `n${n}`, affine, pairs: N },
    InstanceNorm2d: { group: (n, c) => `n${n}c${c}`, pairs: N * C },
    [`GroupNorm (G = ${G})`]: { group: (n, c) => `n${n}g${Math.floor(c / (C / G))}`, affine, pairs: N * G },
  };

  it('computes each layer like a float64 reference of the formula over its axes', () => {
    expect(Object.keys(r.outputs)).toEqual(Object.keys(layers));
    for (const [name, l] of Object.entries(layers)) {
      const want = normalizeRef(r.x, r.shape, l.group, l.affine);
      expect(maxDiff(r.outputs[name].library, want), name).toBeLessThan(1e-4);
      expect(maxDiff(r.outputs[name].byHand, want), name).toBeLessThan(1e-4);
    }
    for (const row of r.rows) expect(row['max |layer − formula|'], row.layer).toBeLessThan(1e-5);
  });

  it('finds the planes that share μ and σ² with x[0, 0, 0, 0] by nudging it', () => {
    for (const [name, l] of Object.entries(layers)) {
      const cells = r.cells.filter((c) => c.layer === name);
      expect(cells).toHaveLength(N * C);
      for (const cell of cells) expect(cell.moved, `${name} (${cell.sample}, ${cell.channel})`).toBe(l.group(cell.sample, cell.channel) === l.group(0, 0));
      const row = r.rows.find((x) => x.layer === name)!;
      expect(row['μ, σ² pairs']).toBe(l.pairs);
      expect(row['values per pair']).toBe((N * C * H * W) / l.pairs);
      expect(row['planes moved by the nudge']).toBe(cells.filter((c) => l.group(c.sample, c.channel) === l.group(0, 0)).length);
    }
    expect(r.rows.map((row) => row['planes moved by the nudge'])).toEqual([N, C, 1, C / G]);
    const marks = rec.plots[0].marks ?? [];
    expect(marks.some((m) => m?.constructor?.name === 'Cell' && (m as { data?: unknown[] }).data?.length === 4 * N * C)).toBe(true);
  });

  it('normalizes before γ, β in LayerNorm, and shows the two wrong orders', () => {
    const { z, gamma: g, beta: b } = r.layerNormOrder;
    const scaled = z.map((v) => 10 * v + 3);
    const ln = (v: number[]) => {
      const m = meanOf(v);
      const s = Math.sqrt(meanOf(v.map((a) => (a - m) ** 2)) + EPS);
      return v.map((a) => (g * (a - m)) / s + b);
    };
    const get = (formula: string, input: string) => r.order.find((o) => o.formula.startsWith(formula) && o.input === input)!;
    // LayerNorm: the formula, the same output at both scales, mean β and std γ.
    expect(maxDiff(get('γ·(x − μ)/σ + β', 'z').values, ln(z))).toBeLessThan(1e-5);
    expect(maxDiff(get('γ·(x − μ)/σ + β', '10·z + 3').values, ln(scaled))).toBeLessThan(1e-4);
    for (const input of ['z', '10·z + 3']) {
      expect(get('γ·(x − μ)/σ + β', input).mean).toBeCloseTo(b, 5);
      expect(Math.abs(get('γ·(x − μ)/σ + β', input).std - g)).toBeLessThan(1e-4);
    }
    // γ·x + β alone: the output follows the input's scale.
    const plain = (v: number[]) => v.map((a) => g * a + b);
    expect(maxDiff(get('γ·x + β', 'z').values, plain(z))).toBeLessThan(1e-5);
    expect(get('γ·x + β', '10·z + 3').std).toBeCloseTo(biasedStd(plain(scaled)), 3);
    expect(get('γ·x + β', '10·z + 3').std / get('γ·x + β', 'z').std).toBeCloseTo(10, 4);
    // Affine first: γ and β are erased.
    for (const input of ['z', '10·z + 3']) {
      expect(Math.abs(get('normalize(γ·x + β)', input).mean)).toBeLessThan(1e-6);
      expect(get('normalize(γ·x + β)', input).std).toBeCloseTo(1, 4);
    }
  });

  it('updates the running statistics as PyTorch does (momentum 0.1, unbiased variance)', () => {
    const { trueMean, trueStd, batchSize: B, steps, batches, trace } = r.running;
    const C3 = trueMean.length;
    const plane = 16; // 4 × 4
    expect(batches).toHaveLength(steps);
    const rm = new Array<number>(C3).fill(0);
    const rv = new Array<number>(C3).fill(1);
    batches.forEach((data, t) => {
      for (let c = 0; c < C3; c++) {
        const vals: number[] = [];
        for (let n = 0; n < B; n++) for (let i = 0; i < plane; i++) vals.push(data[(n * C3 + c) * plane + i]);
        const m = meanOf(vals);
        const unbiased = vals.reduce((s, a) => s + (a - m) ** 2, 0) / (vals.length - 1);
        rm[c] = 0.9 * rm[c] + 0.1 * m;
        rv[c] = 0.9 * rv[c] + 0.1 * unbiased;
        const got = trace.find((p) => p.step === t + 1 && p.channel === `channel ${c}`)!;
        expect(Math.abs(got['running mean'] - rm[c])).toBeLessThan(1e-4 * (1 + Math.abs(rm[c])));
        expect(Math.abs(got['running var'] - rv[c])).toBeLessThan(1e-4 * (1 + rv[c]));
      }
    });
    // After 60 batches the averages sit near the true values: the EMA of batch means has standard
    // deviation σ·√(0.1/1.9/256), of unbiased variances about σ²·√(2/255·0.1/1.9); 4 of them, plus
    // what is left of the start, 0.9⁶⁰·|start − truth|.
    const left = 0.9 ** steps;
    for (let c = 0; c < C3; c++) {
      const s = trueStd[c];
      expect(Math.abs(r.running.runningMean[c] - trueMean[c])).toBeLessThan(4 * s * Math.sqrt(0.1 / 1.9 / 256) + left * Math.abs(trueMean[c]));
      expect(Math.abs(r.running.runningVar[c] - s * s)).toBeLessThan(4 * s * s * Math.sqrt((2 / 255) * (0.1 / 1.9)) + left * Math.abs(s * s - 1));
    }
    expect(rec.plots).toHaveLength(2);
  });

  it('shows train mode depends on the batch and eval mode does not', () => {
    const [train, evalMode] = r.companions;
    expect(train.mode).toBe('train');
    expect(train['max |y_A[0] − y_mixed[0]|']).toBeGreaterThan(0.01);
    expect(Math.abs(train['output mean'])).toBeLessThan(1e-5);
    expect(train['output std']).toBeCloseTo(1, 3);
    expect(evalMode.mode).toBe('eval');
    expect(evalMode['max |y_A[0] − y_mixed[0]|']).toBe(0);
    // With running statistics close to the truth, fresh data comes out roughly standardized.
    expect(Math.abs(evalMode['output mean'])).toBeLessThan(0.15);
    expect(Math.abs(evalMode['output std'] - 1)).toBeLessThan(0.15);
    // A batch of one value per channel: an error in training, the running statistics in eval.
    expect(r.singleError).toMatch(/^BatchNorm2d\.forward: expected more than 1 value per channel when training, got input size \(1, 3, 1, 1\)/);
    const want = r.singleInput.map((v, c) => (v - r.running.runningMean[c]) / Math.sqrt(r.running.runningVar[c] + EPS));
    expect(maxDiff(r.single, want)).toBeLessThan(1e-5);
  });

  it('is reproducible', async () => {
    const again = (await runNote(run)).result as Result;
    expect(again.x).toEqual(r.x);
    expect(again.running.runningMean).toEqual(r.running.runningMean);
  });
});

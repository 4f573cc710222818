import { memory } from '@ml/tensor';
import { describe, expect, it } from 'vitest';
import run from '../notes/initialization.js';
import { runNote, type Recording } from './record.js';

interface Result {
  stds: Record<string, number[]>;
  means: Record<string, number[]>;
  hists: { scheme: string; layer: number; x1: number; x2: number; fraction: number }[];
  factors: { scheme: string; 'Var(w)': number; 'fanIn · Var(w)': number }[];
  width: number;
  depth: number;
  batch: number;
}

// ---- The float64 reference: the wide-network ("mean-field") recursion, by numerical integration.
// With zero-mean weights of variance Var(w) = c / fanIn, the pre-activation z of a unit in layer l
// is a sum of fanIn independent terms: z ~ N(0, q_l) with q_l = c · E[h_{l−1}²], and h_l = φ(z).
/** E[g(√q ξ)] for ξ ~ N(0, 1), by the trapezoid rule on [−10, 10]. */
function gaussExpect(g: (z: number) => number, q: number): number {
  const n = 8000;
  const dx = 20 / n;
  let acc = 0;
  for (let i = 0; i <= n; i++) {
    const xi = -10 + i * dx;
    const w = i === 0 || i === n ? 0.5 : 1;
    acc += w * g(Math.sqrt(q) * xi) * Math.exp(-0.5 * xi * xi);
  }
  return (acc * dx) / Math.sqrt(2 * Math.PI);
}

/** Predicted std of the activations after each of `depth` layers, for unit-variance inputs. */
function predictedStds(c: number, activation: 'tanh' | 'relu', depth: number): number[] {
  let m = 1; // E[x²] of the inputs
  const out: number[] = [];
  for (let l = 0; l < depth; l++) {
    const q = c * m;
    if (activation === 'tanh') {
      m = gaussExpect((z) => Math.tanh(z) ** 2, q); // E[tanh(z)²]; E[tanh(z)] = 0 by symmetry
      out.push(Math.sqrt(m));
    } else {
      m = q / 2; // E[relu(z)²] = q/2 and E[relu(z)] = √(q/2π)
      out.push(Math.sqrt(q * (0.5 - 1 / (2 * Math.PI))));
    }
  }
  return out;
}

// c = fanIn · Var(w) of each scheme, from the initialisers' definitions (fanIn = fanOut = n = 256):
// N(0, σ²): n·σ²; Xavier uniform U(±gain·√(6/(2n))): gain²·(6/2n)/3·n = gain²; Kaiming normal (ReLU): 2.
const n = 256;
const SCHEMES = {
  'N(0, 0.01²)': { c: n * 1e-4, activation: 'tanh' },
  'N(0, 1)': { c: n, activation: 'tanh' },
  Xavier: { c: 1, activation: 'tanh' },
  'Xavier, gain 5/3': { c: 25 / 9, activation: 'tanh' },
  'Xavier (ReLU)': { c: 1, activation: 'relu' },
  'Kaiming (ReLU)': { c: 2, activation: 'relu' },
} as const;

describe('note: initialization', async () => {
  const rec: Recording = await runNote(run);
  const r = rec.result as Result;
  const ratio = (name: string) => r.stds[name][9] / r.stds[name][0];

  it('runs a 10-layer network of width 256 for every scheme', () => {
    expect([r.width, r.depth]).toEqual([256, 10]);
    expect(Object.keys(r.stds)).toEqual(Object.keys(SCHEMES));
    for (const stds of Object.values(r.stds)) expect(stds).toHaveLength(10);
  });

  it('draws weights of the variance each initialiser promises', () => {
    for (const row of r.factors) {
      const want = SCHEMES[row.scheme as keyof typeof SCHEMES].c;
      // 65536 weights: the sample variance is within a few percent of the true one
      expect(Math.abs(row['fanIn · Var(w)'] / want - 1), row.scheme).toBeLessThan(0.03);
    }
  });

  it('collapses the activations with N(0, 0.01²): layer 10 is below 1e-3 of layer 1', () => {
    expect(ratio('N(0, 0.01²)')).toBeLessThan(1e-3);
    // in the linear regime of tanh each layer multiplies the std by 0.01·√256 = 0.16
    const stds = r.stds['N(0, 0.01²)'];
    for (let l = 1; l < 10; l++) expect(Math.abs(stds[l] / stds[l - 1] / 0.16 - 1)).toBeLessThan(0.05);
  });

  it('saturates tanh with N(0, 1): most activations sit near ±1', () => {
    for (const s of r.stds['N(0, 1)']) expect(s).toBeGreaterThan(0.9);
    const layer10 = r.hists.filter((h) => h.scheme === 'N(0, 1)' && h.layer === 10);
    const nearOne = layer10.filter((h) => h.x1 >= 0.9 || h.x2 <= -0.9).reduce((a, h) => a + h.fraction, 0);
    expect(nearOne).toBeGreaterThan(0.7);
    // and with N(0, 0.01²) everything is in the two bins around 0 by layer 3
    const small = r.hists.filter((h) => h.scheme === 'N(0, 0.01²)' && h.layer === 3);
    expect(small.filter((h) => h.x1 >= -0.05 - 1e-9 && h.x2 <= 0.05 + 1e-9).reduce((a, h) => a + h.fraction, 0)).toBeCloseTo(1, 6);
  });

  it('keeps the std within a factor 3 with Xavier, and nearly constant with gain 5/3 and with Kaiming', () => {
    expect(ratio('Xavier')).toBeGreaterThan(1 / 3);
    expect(ratio('Xavier')).toBeLessThan(3);
    for (const s of r.stds['Xavier, gain 5/3']) expect(Math.abs(s / r.stds['Xavier, gain 5/3'][0] - 1)).toBeLessThan(0.2);
    expect(ratio('Kaiming (ReLU)')).toBeGreaterThan(0.6);
    expect(ratio('Kaiming (ReLU)')).toBeLessThan(1.7);
    // Xavier's variance 1/n under ReLU halves the second moment per layer: std × 1/√2 per layer
    expect(ratio('Xavier (ReLU)')).toBeLessThan(0.1);
  });

  it('agrees with the wide-network recursion q_l = c · E[h_{l−1}²], layer by layer', () => {
    for (const [name, { c, activation }] of Object.entries(SCHEMES)) {
      const want = predictedStds(c, activation, 10);
      // tanh is odd and the activations stay centred: close agreement. After ReLU the activations
      // share a positive mean direction whose gain depends on the particular weight matrix, so
      // finite-width fluctuations compound over layers.
      const tol = activation === 'tanh' ? 0.06 : 0.4;
      r.stds[name].forEach((s, l) => expect(Math.abs(s / want[l] - 1), `${name}, layer ${l + 1}`).toBeLessThan(tol));
    }
  });

  it('keeps tanh activations centred and frees its tensors', () => {
    for (const name of ['N(0, 1)', 'Xavier', 'Xavier, gain 5/3']) {
      for (const [l, m] of r.means[name].entries()) expect(Math.abs(m), `${name}, layer ${l + 1}`).toBeLessThan(0.05 * r.stds[name][l]);
    }
    expect(memory().tensors).toBe(0); // runNote gives the note a fresh backend
  });

  it('plots the stds and the histograms', () => {
    expect(rec.plots).toHaveLength(2);
    const bins = r.hists.filter((h) => h.scheme === 'Xavier' && h.layer === 1);
    expect(bins).toHaveLength(40);
    expect(bins.reduce((a, h) => a + h.fraction, 0)).toBeCloseTo(1, 6);
  });
});

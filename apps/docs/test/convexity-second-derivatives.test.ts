import { describe, expect, it } from 'vitest';
import run from '../notes/convexity-second-derivatives.js';
import { runNote, type Recording } from './record.js';

interface Row {
  'f(x)': string;
  "f''(0.5)": number;
  "f''(1)": number;
  "f''(2)": number;
  "min f''": number;
  "max f''": number;
  class: string;
  "f'' never 0": string;
}
interface HessRow {
  f: string;
  eigenvalues: number[];
  eigenvectors: number[][];
  'smallest λ at 12 points': number;
  verdict: string;
}
interface JensenRow {
  f: string;
  X: string;
  'E[f(X)]': number;
  'f(E[X])': number;
  gap: number;
  'E[f(X)] exact': number;
  'f(E[X]) exact': number;
}
interface Result {
  table: Row[];
  hess: HessRow[];
  jensen: JensenRow[];
}

describe('note: convexity-second-derivatives', async () => {
  const rec: Recording = await runNote(run);
  const r = rec.result as Result;
  const row = (name: string) => r.table.find((t) => t['f(x)'] === name)!;

  it("computes f'' with grad(grad(f)) at points, matching the closed forms", () => {
    const closed: Record<string, (x: number) => number> = {
      'x²': () => 2,
      '−x²': () => -2,
      'eˣ': (x) => Math.exp(x),
      'log x': (x) => -1 / (x * x),
      '2x + 1': () => 0,
      'x⁴': (x) => 12 * x * x,
    };
    expect(r.table.map((t) => t['f(x)'])).toEqual(Object.keys(closed));
    for (const [name, d2] of Object.entries(closed)) {
      const t = row(name);
      for (const x of [0.5, 1, 2]) expect(t[`f''(${x})` as "f''(1)"]).toBeCloseTo(d2(x), 10);
    }
  });

  it("classifies by the sign of f'' on the grid: log x is concave, a line is both", () => {
    expect(row('x²').class).toBe('convex');
    expect(row('−x²').class).toBe('concave');
    expect(row('eˣ').class).toBe('convex');
    expect(row('log x').class).toBe('concave');
    expect(row('2x + 1').class).toBe('both');
    expect(row('x⁴').class).toBe('convex');
    // f'' of a line is exactly 0 by autodiff, not merely small
    expect(row('2x + 1')["min f''"]).toBe(0);
    expect(row('2x + 1')["max f''"]).toBe(0);
    // grid extremes against the closed forms
    expect(row('eˣ')["min f''"]).toBeCloseTo(Math.exp(-2), 10);
    expect(row('log x')["min f''"]).toBeCloseTo(-16, 8); // −1/0.25²
    expect(row('log x')["max f''"]).toBeCloseTo(-0.25, 10);
    // x⁴ has f''(0) = 0 on the grid: the f'' > 0 test cannot certify that it is strictly convex
    expect(row('x⁴')["min f''"]).toBeCloseTo(0, 10);
    expect(row('x⁴')["f'' never 0"]).toBe('no');
    expect(row('x²')["f'' never 0"]).toBe('yes');
    expect(row('log x')["f'' never 0"]).toBe('yes');
  });

  it('finds the Hessian eigenvalues of the quadratic, the saddle and logsumexp', () => {
    const [quad, saddle, lse] = r.hess;
    // A = [[3, 1], [1, 2]]: λ = (5 ∓ √5)/2
    expect(quad.eigenvalues[0]).toBeCloseTo((5 - Math.sqrt(5)) / 2, 10);
    expect(quad.eigenvalues[1]).toBeCloseTo((5 + Math.sqrt(5)) / 2, 10);
    expect(quad.verdict).toBe('strictly convex');
    expect(saddle.eigenvalues[0]).toBeCloseTo(-2, 12);
    expect(saddle.eigenvalues[1]).toBeCloseTo(2, 12);
    expect(saddle.verdict).toMatch(/not convex/);
    // log(eˣ + eʸ) at (0.5, −0.5): H = p₁p₂[[1, −1], [−1, 1]], λ = 0 and 2p₁p₂ with p₁ = σ(1)
    const p1 = 1 / (1 + Math.exp(-1));
    expect(lse.eigenvalues[0]).toBeCloseTo(0, 10);
    expect(lse.eigenvalues[1]).toBeCloseTo(2 * p1 * (1 - p1), 10);
    expect(Math.abs(lse.eigenvectors[0][0])).toBeCloseTo(Math.SQRT1_2, 8); // the flat direction is (1, 1)/√2
    expect(lse.eigenvectors[0][0] * lse.eigenvectors[1][0]).toBeGreaterThan(0);
    expect(lse.verdict).toBe('convex, not strictly');
  });

  it("checks Jensen's inequality against the exact expectations", () => {
    for (const j of r.jensen) {
      const concave = j.f.includes('concave');
      if (concave) expect(j['E[f(X)]']).toBeLessThan(j['f(E[X])']);
      else expect(j['E[f(X)]']).toBeGreaterThanOrEqual(j['f(E[X])']);
      expect(j.gap).toBeCloseTo(j['E[f(X)]'] - j['f(E[X])'], 12);
      // Monte Carlo with 100 000 samples: a few standard errors
      expect(Math.abs(j['E[f(X)]'] - j['E[f(X)] exact'])).toBeLessThan(0.03);
      expect(Math.abs(j['f(E[X])'] - j['f(E[X]) exact'])).toBeLessThan(0.03);
    }
    const constant = r.jensen.find((j) => j.X.startsWith('the constant'))!;
    expect(constant.gap).toBe(0); // equality when X is constant
    const twoPoint = r.jensen.find((j) => j.f === 'x²' && j.X.startsWith('1 or 10'))!;
    expect([twoPoint['E[f(X)]'], twoPoint['f(E[X])']]).toEqual([50.5, 30.25]);
  });

  it('plots the functions, the surfaces and the chord', () => {
    expect(rec.plots).toHaveLength(3);
  });

  it('is reproducible', async () => {
    const again = (await runNote(run)).result as Result;
    expect(again.jensen).toEqual(r.jensen);
  });
});

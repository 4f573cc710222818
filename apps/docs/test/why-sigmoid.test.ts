import { describe, expect, it } from 'vitest';
import run from '../notes/why-sigmoid.js';
import { runNote, type Recording } from './record.js';

// Plain float64 references, written without @ml/tensor.
const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));
const logit = (p: number) => Math.log(p / (1 - p));
/** Φ(x) = ½ + ∫₀ˣ φ(t) dt by Simpson's rule (independent of erf). */
const Phi = (x: number) => {
  const n = 2000;
  const h = x / n;
  const phi = (t: number) => Math.exp(-t * t / 2) / Math.sqrt(2 * Math.PI);
  let s = phi(0) + phi(x);
  for (let i = 1; i < n; i++) s += (i % 2 ? 4 : 2) * phi(i * h);
  return 0.5 + (s * h) / 3;
};

interface Result {
  p: number[];
  odds: number[];
  logOdds: number[];
  back: number[];
  roundTrip: number;
  pmfErr: number;
  derivErr: number;
  secondErr: number;
  gap: number;
  rows: Record<string, number>[];
  x: number[];
  values: Record<string, number[]>;
}

describe('note: why-sigmoid', async () => {
  const rec: Recording = await runNote(run);
  const r = rec.result as Result;

  it('computes odds and the log-odds log(p/(1−p)), and the sigmoid inverts it', () => {
    expect(r.p).toEqual([0.01, 0.1, 0.25, 0.5, 0.75, 0.9, 0.99]);
    r.p.forEach((p, i) => {
      expect(r.odds[i]).toBeCloseTo(p / (1 - p), 10);
      expect(r.logOdds[i]).toBeCloseTo(logit(p), 10);
      expect(r.back[i]).toBeCloseTo(p, 12);
    });
    // Not "log of odds times something": log(0.75/0.25) = log 3.
    expect(r.logOdds[4]).toBeCloseTo(Math.log(3), 12);
    expect(r.roundTrip).toBeLessThan(1e-12);
  });

  it('checks the exponential-family form and A′(η) = σ(η), A″(η) = σ(1 − σ)', () => {
    expect(r.pmfErr).toBeLessThan(1e-12);
    expect(r.derivErr).toBeLessThan(1e-8);
    expect(r.secondErr).toBeLessThan(1e-5);
    // The same identities, independently: the central difference of log(1 + e^η).
    const A = (eta: number) => Math.log1p(Math.exp(eta));
    for (const eta of [-3, -0.5, 0, 1, 4]) {
      expect((A(eta + 1e-5) - A(eta - 1e-5)) / 2e-5).toBeCloseTo(sigmoid(eta), 8);
    }
  });

  it('draws the four curves against plain-JS references', () => {
    expect(r.x).toHaveLength(241);
    const names = Object.keys(r.values);
    expect(names).toHaveLength(4);
    const [sig, probit, scaled, clipped] = names.map((n) => r.values[n]);
    r.x.forEach((x, i) => {
      expect(sig[i]).toBeCloseTo(sigmoid(x), 12);
      expect(Math.abs(probit[i] - Phi(x))).toBeLessThan(1e-7);
      expect(Math.abs(scaled[i] - Phi(x * Math.sqrt(Math.PI / 8)))).toBeLessThan(1e-7);
      expect(clipped[i]).toBeCloseTo(Math.min(1, Math.max(0, 0.5 + x / 4)), 12);
    });
    // The scaled probit has σ's slope ¼ at 0: both central differences agree with ¼.
    const i0 = r.x.indexOf(0);
    const slope = (v: number[]) => (v[i0 + 1] - v[i0 - 1]) / (r.x[i0 + 1] - r.x[i0 - 1]);
    expect(slope(sig)).toBeCloseTo(0.25, 3);
    expect(slope(scaled)).toBeCloseTo(0.25, 3);
    expect(slope(probit)).toBeCloseTo(1 / Math.sqrt(2 * Math.PI), 3);
    // Matching the slope at 0 is enough to keep the two curves within 0.02 of each other.
    expect(r.gap).toBeGreaterThan(0.01);
    expect(r.gap).toBeLessThan(0.02);
    expect(r.gap).toBeCloseTo(Math.max(...r.x.map((x) => Math.abs(sigmoid(x) - Phi(x * Math.sqrt(Math.PI / 8))))), 6);
  });

  it('plots the curves and tabulates them', () => {
    expect(rec.plots).toHaveLength(1);
    const line = (rec.plots[0].marks ?? []).find((m) => m?.constructor?.name === 'Line') as unknown as { data: unknown[] };
    expect(line.data).toHaveLength(4 * 241);
    const table = rec.tables.at(-1)!.rows;
    expect(table.map((row) => row.x)).toEqual([-6, -4, -2, -1, 0, 1, 2, 4, 6]);
    const [sig, probit, scaled, clipped] = Object.keys(r.values);
    for (const row of table) {
      const x = row.x as number;
      expect(row[sig]).toBeCloseTo(sigmoid(x), 12);
      expect(Math.abs((row[probit] as number) - Phi(x))).toBeLessThan(1e-7);
      expect(Math.abs((row[scaled] as number) - Phi(x * Math.sqrt(Math.PI / 8)))).toBeLessThan(1e-7);
    }
    // Tails: the sigmoid keeps more mass out at ±6 than the probits, the clipped line none.
    const last = table.at(-1)!;
    expect(1 - (last[sig] as number)).toBeGreaterThan(1 - (last[scaled] as number));
    expect(last[clipped]).toBe(1);
  });
});

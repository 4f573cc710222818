import { describe, expect, it } from 'vitest';
import run from '../notes/bias-variance.js';
import { runNote, type Recording } from './record.js';

interface Row {
  estimator: string;
  MSE: number;
  'bias²': number;
  variance: number;
  'bias² + variance': number;
  'bias² (theory)': number;
  'variance (theory)': number;
}
interface Result {
  params: { mu: number; sigma: number; n: number; trials: number; c: number };
  rows: Row[];
  identityErr: number;
  estimates: { sampleMean: number[]; shrunk: number[] };
  sweep: { c: number[]; mse: number[]; bias2: number[]; variance: number[]; cBest: number };
}

// Plain-JS moments of a list of estimates of μ.
const moments = (est: number[], mu: number) => {
  const mean = est.reduce((a, b) => a + b, 0) / est.length;
  return {
    mse: est.reduce((a, v) => a + (v - mu) ** 2, 0) / est.length,
    bias2: (mean - mu) ** 2,
    variance: est.reduce((a, v) => a + (v - mean) ** 2, 0) / est.length,
  };
};

describe('note: bias-variance', async () => {
  const rec: Recording = await runNote(run);
  const r = rec.result as Result;
  const { mu, sigma, n, trials, c } = r.params;

  it('simulates many trials of the sample mean, and the shrunk mean is c times it', () => {
    expect(r.estimates.sampleMean).toHaveLength(trials);
    expect(trials).toBeGreaterThanOrEqual(1000);
    r.estimates.shrunk.forEach((v, t) => expect(v).toBeCloseTo(c * r.estimates.sampleMean[t], 12));
  });

  it('computes MSE, bias² = (E[ŷ] − μ)² and variance like a plain-JS reference', () => {
    const [sampleMean, zero, shrunk] = r.rows;
    const refs = [
      moments(r.estimates.sampleMean, mu),
      moments(new Array<number>(trials).fill(0), mu),
      moments(r.estimates.shrunk, mu),
    ];
    [sampleMean, zero, shrunk].forEach((row, i) => {
      expect(row.MSE).toBeCloseTo(refs[i].mse, 10);
      expect(row['bias²']).toBeCloseTo(refs[i].bias2, 10);
      expect(row.variance).toBeCloseTo(refs[i].variance, 10);
    });
  });

  it('confirms MSE = bias² + variance up to rounding', () => {
    expect(r.identityErr).toBeLessThan(1e-12);
    for (const row of r.rows) expect(Math.abs(row.MSE - row['bias²'] - row.variance)).toBeLessThan(1e-12);
    r.sweep.c.forEach((_, k) => expect(Math.abs(r.sweep.mse[k] - r.sweep.bias2[k] - r.sweep.variance[k])).toBeLessThan(1e-12));
  });

  it('agrees with the closed forms within Monte Carlo error', () => {
    const [sampleMean, zero, shrunk] = r.rows;
    const v = sigma ** 2 / n; // Var[x̄]
    const se = v * Math.sqrt(2 / trials); // standard error of an estimated variance v
    // Sample mean: unbiased, variance σ²/n.
    expect(sampleMean['bias² (theory)']).toBe(0);
    expect(sampleMean['variance (theory)']).toBeCloseTo(v, 12);
    expect(Math.abs(sampleMean.variance - v)).toBeLessThan(5 * se);
    expect(sampleMean['bias²']).toBeLessThan(25 * (v / trials)); // (5 standard errors of the mean)²
    expect(Math.abs(sampleMean.MSE - v)).toBeLessThan(5 * se);
    // The constant 0: bias² = μ², variance 0, exactly.
    expect(zero['bias²']).toBeCloseTo(mu ** 2, 12);
    expect(zero.variance).toBe(0);
    expect(zero.MSE).toBeCloseTo(mu ** 2, 12);
    // Shrunk c·x̄: bias² = (1 − c)²μ², variance c²σ²/n.
    expect(shrunk['variance (theory)']).toBeCloseTo(c * c * v, 12);
    expect(Math.abs(shrunk.variance - c * c * v)).toBeLessThan(5 * c * c * se);
    expect(Math.abs(Math.sqrt(shrunk['bias²']) - (1 - c) * mu)).toBeLessThan(5 * c * Math.sqrt(v / trials));
    // With these parameters the biased estimator wins.
    expect(shrunk.MSE).toBeLessThan(sampleMean.MSE);
  });

  it('sweeps the shrinkage and finds the best c near μ²/(μ² + σ²/n)', () => {
    const { c: cs, mse, cBest } = r.sweep;
    expect(cBest).toBeCloseTo(mu ** 2 / (mu ** 2 + sigma ** 2 / n), 12);
    const k = mse.indexOf(Math.min(...mse));
    expect(Math.abs(cs[k] - cBest)).toBeLessThan(0.1);
    cs.forEach((cc, j) => {
      const theory = (1 - cc) ** 2 * mu ** 2 + (cc * cc * sigma ** 2) / n;
      expect(Math.abs(mse[j] - theory)).toBeLessThan(0.05 * theory + 1e-3);
    });
    // At c = 1 the sweep is the sample mean again.
    const one = cs.findIndex((cc) => Math.abs(cc - 1) < 1e-9);
    expect(mse[one]).toBeCloseTo(r.rows[0].MSE, 10);
  });

  it('shows a histogram of the estimates and a table', () => {
    expect(rec.tables[0].rows.map((row) => row.estimator)).toEqual(r.rows.map((row) => row.estimator));
    expect(rec.plots).toHaveLength(2);
    const rect = (rec.plots[0].marks ?? []).find((m) => m?.constructor?.name === 'Rect') as unknown as { data: { estimate: number }[] };
    expect(rect.data).toHaveLength(2 * trials);
    expect(rect.data[0].estimate).toBe(r.estimates.sampleMean[0]);
  });

  it('is reproducible and fast', async () => {
    const t0 = performance.now();
    const again = (await runNote(run)).result as Result;
    expect(performance.now() - t0).toBeLessThan(3000);
    expect(again.rows).toEqual(r.rows);
  });
});

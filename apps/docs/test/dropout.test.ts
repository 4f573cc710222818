import { describe, expect, it } from 'vitest';
import run from '../notes/dropout.js';
import { runNote, type Recording } from './record.js';

interface Result {
  p: number;
  T: number;
  xs: number[];
  outs: number[];
  unitRows: { 'mean over draws': number; 'fraction zeroed': number }[];
  evalOut: number[];
  original: { q: number; masks: number[]; meanOrig: number[]; testOrig: number[] };
  activations: { hidden: number[]; dropped: number[]; weightsUnchanged: boolean; zeroedPerExample: number[]; distinctMasks: number };
  sum: { h: number[]; w: number[]; a: number[]; aEval: number; aMean: number; aVar: number; aVarTheory: number };
  conventions: { keepProb: number; zeros: number };
}

const mean = (v: number[]) => v.reduce((s, a) => s + a, 0) / v.length;
const close = (a: number, b: number, rel = 1e-6) => Math.abs(a - b) <= rel * Math.max(1, Math.abs(b));

describe('note: dropout', async () => {
  const rec: Recording = await runNote(run);
  const r = rec.result as Result;
  const { p, T, xs } = r;
  const D = xs.length;
  const column = (values: number[], j: number) => Array.from({ length: T }, (_, t) => values[t * D + j]);

  it('drops each activation with probability p and scales the kept ones by 1/(1 − p)', () => {
    expect(p).toBe(0.3);
    expect(r.outs).toHaveLength(T * D);
    xs.forEach((x, j) => {
      const col = column(r.outs, j);
      // every output is 0 or x/(1 − p): an activation is zeroed or scaled, nothing else
      for (const v of col) expect(v === 0 || close(v, x / (1 - p)), `unit ${j}: ${v}`).toBe(true);
      const zeroed = col.filter((v) => v === 0).length / T;
      expect(Math.abs(zeroed - p)).toBeLessThan(4 * Math.sqrt((p * (1 - p)) / T)); // binomial, 4 s.d.
      expect(r.unitRows[j]['fraction zeroed']).toBeCloseTo(zeroed, 12);
    });
  });

  it('keeps the expectation: the mean over draws is x within its standard error', () => {
    xs.forEach((x, j) => {
      const m = mean(column(r.outs, j));
      expect(r.unitRows[j]['mean over draws']).toBeCloseTo(m, 6);
      // Var[out] = x²·p/(1 − p) for out = m·x/(1 − p), m ~ Bernoulli(1 − p)
      expect(Math.abs(m - x)).toBeLessThan(4 * Math.abs(x) * Math.sqrt(p / (1 - p) / T));
    });
  });

  it('is the identity in eval mode', () => {
    expect(r.evalOut).toEqual(xs);
  });

  it('gives the same expectation with the original recipe (no scaling, × (1 − p) at test time)', () => {
    const q = r.original.q;
    expect(q).toBeCloseTo(1 - p, 12);
    expect(r.original.masks.every((m) => m === 0 || m === 1)).toBe(true);
    xs.forEach((x, j) => {
      const kept = column(r.original.masks, j);
      const m = mean(kept.map((k) => k * x));
      expect(r.original.meanOrig[j]).toBeCloseTo(m, 5);
      expect(Math.abs(m - q * x)).toBeLessThan(4 * Math.abs(x) * Math.sqrt((q * (1 - q)) / T));
      expect(r.original.testOrig[j]).toBeCloseTo(q * x, 6);
    });
  });

  it('zeroes activations, a different mask per example, and leaves the weights alone', () => {
    const { hidden, dropped, weightsUnchanged, zeroedPerExample, distinctMasks } = r.activations;
    expect(weightsUnchanged).toBe(true);
    expect(hidden).toHaveLength(8 * 32);
    let active = 0;
    let zeroed = 0;
    hidden.forEach((h, i) => {
      // Dropout(0.5): each hidden activation becomes 0 or 2h
      expect(dropped[i] === 0 || close(dropped[i], 2 * h)).toBe(true);
      if (h !== 0) {
        active++;
        if (dropped[i] === 0) zeroed++;
      }
    });
    expect(zeroedPerExample.reduce((s, k) => s + k, 0)).toBe(zeroed);
    expect(Math.abs(zeroed / active - 0.5)).toBeLessThan(4 * Math.sqrt(0.25 / active));
    expect(distinctMasks).toBeGreaterThan(1);
  });

  it('gives the next layer an unbiased, noisy pre-activation with variance Σ w²h²·p/(1 − p)', () => {
    const { h, w, a, aEval, aMean, aVar, aVarTheory } = r.sum;
    expect(a).toHaveLength(T);
    expect(aEval).toBeCloseTo(h.reduce((s, hj, j) => s + hj * w[j], 0), 5);
    expect(aMean).toBeCloseTo(mean(a), 10);
    const varTheory = (p / (1 - p)) * h.reduce((s, hj, j) => s + (w[j] * hj) ** 2, 0);
    expect(aVarTheory).toBeCloseTo(varTheory, 10);
    expect(Math.abs(aMean - aEval)).toBeLessThan(4 * Math.sqrt(varTheory / T));
    // the sample variance's standard error from the sample's fourth central moment
    const m4 = mean(a.map((v) => (v - aMean) ** 4));
    expect(Math.abs(aVar - varTheory)).toBeLessThan(4 * Math.sqrt((m4 - aVar ** 2) / T));
    const marks = rec.plots[0].marks ?? [];
    expect(marks.some((m) => m?.constructor?.name === 'Rect' && (m as { data?: unknown[] }).data?.length === T)).toBe(true);
  });

  it('translates keep_prob = 0.9 to Dropout(0.1)', () => {
    expect(Math.abs(r.conventions.zeros - 0.1)).toBeLessThan(4 * Math.sqrt((0.1 * 0.9) / 10000));
  });

  it('is reproducible', async () => {
    const again = (await runNote(run)).result as Result;
    expect(again.outs).toEqual(r.outs);
    expect(again.sum.a).toEqual(r.sum.a);
  });
});

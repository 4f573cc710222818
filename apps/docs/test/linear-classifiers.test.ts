import { describe, expect, it } from 'vitest';
import run from '../notes/linear-classifiers.js';
import { runNote, type Recording } from './record.js';

// ---- Plain float64 references of the two losses, written from their formulas without @ml/*.
/** Multiclass SVM loss Σ_{j≠y} max(0, s_j − s_y + 1). */
const hingeRef = (s: number[], y: number) => s.reduce((acc, v, j) => (j === y ? acc : acc + Math.max(0, v - s[y] + 1)), 0);
/** ∂hinge/∂s_y = −(number of classes j ≠ y inside the margin). */
const hingeSlopeRef = (s: number[], y: number) => -s.filter((v, j) => j !== y && v - s[y] + 1 > 0).length;
const logSumExp = (s: number[]) => {
  const m = Math.max(...s);
  return m + Math.log(s.reduce((acc, v) => acc + Math.exp(v - m), 0));
};
/** Cross-entropy −log softmax(s)_y = logsumexp(s) − s_y. */
const ceRef = (s: number[], y: number) => logSumExp(s) - s[y];
/** ∂CE/∂s_y = softmax(s)_y − 1. */
const ceSlopeRef = (s: number[], y: number) => Math.exp(s[y] - logSumExp(s)) - 1;

const scoresOf = (W: number[][], b: number[], x: number[]) => W.map((row, k) => row[0] * x[0] + row[1] * x[1] + b[k]);
const argmax = (v: number[]) => v.indexOf(Math.max(...v));

interface Result {
  hinge: number[];
  ce: number[];
  hingeMean: number;
  ceMean: number;
  sweep: { 'cat score': number; loss: string; value: number; slope: number }[];
  data: { X: number[][]; y: number[] };
  accuracy: { softmax: number; svm: number };
  perPoint: { softmax: number[]; svm: number[] };
  curves: { softmax: { step: number; value: number }[]; svm: { step: number; value: number }[] };
  weights: Record<'softmax' | 'svm', { W: number[][]; b: number[] }>;
  regions: Record<'cross-entropy' | 'hinge', string[]>;
  agree: number;
}

const CLASSES = ['cat', 'car', 'frog'];

describe('note: linear-classifiers', async () => {
  const rec: Recording = await runNote(run);
  const r = rec.result as Result;

  it('computes the hinge loss of the cat/car/frog scores as by hand', () => {
    // cat image: max(0, 5.1 − 3.2 + 1) + max(0, −1.7 − 3.2 + 1) = 2.9 + 0
    // car image: max(0, 1.3 − 4.9 + 1) + max(0, 2.0 − 4.9 + 1) = 0 + 0
    // frog image: max(0, 2.2 + 3.1 + 1) + max(0, 2.5 + 3.1 + 1) = 6.3 + 6.6
    const byHand = [2.9, 0, 12.9];
    r.hinge.forEach((h, i) => expect(h).toBeCloseTo(byHand[i], 5));
    expect(r.hingeMean).toBeCloseTo((2.9 + 0 + 12.9) / 3, 5);
  });

  it('computes the cross-entropy of the same scores', () => {
    const rows = [
      [3.2, 5.1, -1.7],
      [1.3, 4.9, 2.0],
      [2.2, 2.5, -3.1],
    ];
    const want = rows.map((s, i) => ceRef(s, i)); // ≈ 2.04, 0.079, 6.16
    r.ce.forEach((c, i) => expect(c).toBeCloseTo(want[i], 5));
    expect(r.ceMean).toBeCloseTo(want.reduce((a, b) => a + b, 0) / 3, 5);
    // the car image meets every margin: hinge 0, yet cross-entropy is still positive
    expect(r.hinge[1]).toBe(0);
    expect(r.ce[1]).toBeGreaterThan(0.05);
  });

  it('shows the hinge loss and its gradient at exactly 0 past the margin, cross-entropy never', () => {
    const hinge = r.sweep.filter((row) => row.loss === 'hinge');
    const ce = r.sweep.filter((row) => row.loss === 'cross-entropy');
    expect(hinge).toHaveLength(121);
    expect(ce).toHaveLength(121);
    for (const [rows, value, slope] of [
      [hinge, hingeRef, hingeSlopeRef],
      [ce, ceRef, ceSlopeRef],
    ] as const) {
      for (const row of rows) {
        const s = [row['cat score'], 5.1, -1.7];
        // the hinge has kinks where s_cat = 6.1 and −0.7: the slope there is a convention
        const atKink = Math.abs(s[0] - 6.1) < 1e-4 || Math.abs(s[0] + 0.7) < 1e-4;
        expect(Math.abs(row.value - value(s, 0))).toBeLessThan(1e-5 * Math.max(1, row.value));
        if (!atKink) expect(Math.abs(row.slope - slope(s, 0))).toBeLessThan(1e-5);
      }
    }
    for (const row of hinge.filter((h) => h['cat score'] > 6.1 + 1e-4)) {
      expect(row.value).toBe(0);
      expect(row.slope).toBe(0);
    }
    for (const row of ce) {
      expect(row.value).toBeGreaterThan(0);
      expect(row.slope).toBeLessThan(0);
    }
  });

  it('draws three blobs around their centres from a fixed key', () => {
    const { X, y } = r.data;
    expect(X).toHaveLength(300);
    expect(y.filter((k) => k === 0)).toHaveLength(100);
    const centres = [90, 210, 330].map((d) => [2 * Math.cos((d * Math.PI) / 180), 2 * Math.sin((d * Math.PI) / 180)]);
    let ss = 0;
    for (let k = 0; k < 3; k++) {
      const pts = X.filter((_, i) => y[i] === k);
      const mean = [0, 1].map((d) => pts.reduce((a, p) => a + p[d], 0) / pts.length);
      // the mean of 100 draws of N(c, 0.9²) is within 4 standard errors (4·0.09) of c
      expect(Math.hypot(mean[0] - centres[k][0], mean[1] - centres[k][1])).toBeLessThan(4 * 0.09 * Math.SQRT2);
      for (const p of pts) ss += (p[0] - centres[k][0]) ** 2 + (p[1] - centres[k][1]) ** 2;
    }
    // 600 squared N(0, 0.9²) deviations: their mean is 0.81 within a few percent (sd ≈ 0.81·√(2/600))
    expect(Math.abs(ss / 600 - 0.81)).toBeLessThan(4 * 0.81 * Math.sqrt(2 / 600));
  });

  it('trains both classifiers to a high training accuracy, checked from their weights', () => {
    const { X, y } = r.data;
    for (const [name, loss, ref] of [
      ['softmax', 'softmax', ceRef],
      ['svm', 'svm', hingeRef],
    ] as const) {
      const { W, b } = r.weights[name];
      const scores = X.map((x) => scoresOf(W, b, x));
      const acc = scores.filter((s, i) => argmax(s) === y[i]).length / X.length;
      expect(r.accuracy[name]).toBeCloseTo(acc, 6);
      expect(acc, name).toBeGreaterThan(0.9);
      // the per-point losses at the final weights
      r.perPoint[loss].forEach((l, i) => {
        const want = ref(scores[i], y[i]);
        expect(Math.abs(l - want), `${name}, point ${i}`).toBeLessThan(1e-4 * Math.max(1, want));
      });
      // training went downhill
      const curve = r.curves[name];
      expect(curve.at(-1)!.value).toBeLessThan(curve[0].value / 3);
    }
    // most points end outside every margin, with hinge loss exactly 0
    const zeros = r.perPoint.svm.filter((l) => l === 0).length;
    expect(zeros).toBeGreaterThan(200);
    expect(zeros).toBeLessThan(300);
  });

  it('draws decision regions that are the argmax of the trained scores', () => {
    const G = 100;
    const cell = 10 / G;
    for (const [name, key] of [
      ['cross-entropy', 'softmax'],
      ['hinge', 'svm'],
    ] as const) {
      const { W, b } = r.weights[key];
      const regions = r.regions[name];
      expect(regions).toHaveLength(G * G);
      let same = 0;
      for (let i = 0; i < G; i++) {
        for (let j = 0; j < G; j++) {
          const x = [-5 + (j + 0.5) * cell, -5 + (i + 0.5) * cell]; // row i is y, column j is x
          if (CLASSES[argmax(scoresOf(W, b, x))] === regions[i * G + j]) same++;
        }
      }
      // float32 against float64 may only disagree on cells right at a boundary
      expect(same / (G * G), name).toBeGreaterThan(0.995);
      // the region around each blob's centre is its class
      const at = (x: number, y: number) => regions[Math.floor((y + 5) / cell) * G + Math.floor((x + 5) / cell)];
      expect(at(0, 2)).toBe('cat');
      expect(at(2 * Math.cos((210 * Math.PI) / 180), 2 * Math.sin((210 * Math.PI) / 180))).toBe('car');
      expect(at(2 * Math.cos((330 * Math.PI) / 180), 2 * Math.sin((330 * Math.PI) / 180))).toBe('frog');
    }
    expect(r.agree).toBeGreaterThan(0.9);
  });

  it('shows the tables and the four figures', () => {
    expect(rec.tables[0].rows.map((row) => row['hinge loss'] as number).map((v) => Number(v.toFixed(4)))).toEqual([2.9, 0, 12.9]);
    expect(rec.plots).toHaveLength(4);
    const markNames = rec.plots.map((p) => (p.marks ?? []).map((m) => m?.constructor?.name));
    expect(markNames[1]).toEqual(expect.arrayContaining(['Raster', 'Dot']));
    expect(markNames[2]).toEqual(expect.arrayContaining(['Raster', 'Dot']));
    expect(rec.lines.join('\n')).toMatch(/mean hinge loss = 5\.2667/);
  });
});

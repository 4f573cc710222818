import { describe, expect, it } from 'vitest';
import run from '../notes/softmax-cross-entropy.js';
import { runNote, type Recording } from './record.js';

// Plain float64 references, written without @ml/tensor.
const logSumExp = (x: number[]) => {
  const m = Math.max(...x);
  return m + Math.log(x.reduce((acc, v) => acc + Math.exp(v - m), 0));
};
const logSoftmax = (x: number[]) => x.map((v) => v - logSumExp(x));
const softmax = (x: number[]) => logSoftmax(x).map(Math.exp);

interface Result {
  probs: number[];
  exps: number[];
  loss: number;
  lossFromLogits: number;
  libSoftmax: number[];
  libLogSoftmax: number[];
  stability: Record<string, Record<'naive' | 'shifted' | 'softmax' | 'logSoftmax', number[]>>;
  batch: { perExample: number[]; perExampleOneHot: number[]; batchLoss: number };
  init: { classes: number; 'loss at init': number; 'log C': number }[];
}

const closeAll = (got: number[], want: number[], tol: number) => {
  expect(got).toHaveLength(want.length);
  got.forEach((g, i) => expect(Math.abs(g - want[i])).toBeLessThan(tol));
};

describe('note: softmax-cross-entropy', async () => {
  const rec: Recording = await runNote(run);
  const r = rec.result as Result;
  const scores = [3.2, 5.1, -1.7];

  it('reproduces the cat/car/frog numbers of the course notes', () => {
    // The notes' rows: exp ≈ 24.5, 164.0, 0.18; probabilities 0.13, 0.87, 0.00.
    expect(r.exps.map((v) => Number(v.toFixed(1)))).toEqual([24.5, 164.0, 0.2]);
    expect(r.exps[2]).toBeCloseTo(0.18, 2);
    expect(r.probs.map((v) => Number(v.toFixed(2)))).toEqual([0.13, 0.87, 0]);
    closeAll(r.probs, softmax(scores), 1e-6);
    expect(r.probs.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 6);
  });

  it('computes the loss of the true class, by hand and from the logits', () => {
    const want = -logSoftmax(scores)[0]; // ≈ 2.0404
    expect(r.loss).toBeCloseTo(want, 5);
    expect(r.lossFromLogits).toBeCloseTo(want, 5);
    closeAll(r.libSoftmax, softmax(scores), 1e-6);
    closeAll(r.libLogSoftmax, logSoftmax(scores), 1e-5);
  });

  it('shows the naive formula failing where the max-shifted one is exact', () => {
    const small = r.stability['[1, 2, 3]'];
    closeAll(small.naive, softmax([1, 2, 3]), 1e-6);
    for (const key of ['[1000, 1001, 1002]', '[-1000, -1001, -1002]']) {
      const c = r.stability[key];
      expect(c.naive.every(Number.isNaN)).toBe(true);
      const logits = JSON.parse(key) as number[];
      closeAll(c.shifted, softmax(logits), 1e-6);
      closeAll(c.softmax, softmax(logits), 1e-6);
      // float32 logits near ±1000 are spaced 6e-5 apart, so log-softmax is good to about that.
      closeAll(c.logSoftmax, logSoftmax(logits), 1e-4);
    }
    // Shift invariance: [1000, 1001, 1002] has the probabilities of [0, 1, 2].
    closeAll(r.stability['[1000, 1001, 1002]'].softmax, softmax([0, 1, 2]), 1e-7);
  });

  it('computes batch cross-entropy with oneHot and with gather', () => {
    const rows = [
      [3.2, 5.1, -1.7],
      [1.3, 4.9, 2.0],
      [2.2, 2.5, -3.1],
    ];
    const want = rows.map((row, n) => -logSoftmax(row)[n]);
    closeAll(r.batch.perExample, want, 1e-5);
    closeAll(r.batch.perExampleOneHot, want, 1e-5);
    expect(r.batch.batchLoss).toBeCloseTo(want.reduce((a, b) => a + b, 0) / want.length, 5);
  });

  it('finds the loss at initialization close to log C', () => {
    expect(r.init.map((row) => row.classes)).toEqual([2, 10, 100, 1000]);
    for (const row of r.init) {
      expect(row['log C']).toBeCloseTo(Math.log(row.classes), 12);
      expect(Math.abs(row['loss at init'] - Math.log(row.classes))).toBeLessThan(0.02);
    }
  });

  it('shows a table of the probabilities and a bar plot', () => {
    const probs = rec.tables[0].rows;
    expect(probs.map((row) => row.class)).toEqual(['cat', 'car', 'frog']);
    closeAll(probs.map((row) => row.probability as number), softmax(scores), 1e-6);
    expect(rec.plots).toHaveLength(1);
    const marks = rec.plots[0].marks ?? [];
    expect(marks.some((m) => m?.constructor?.name === 'BarY' && (m as { data?: unknown[] }).data?.length === 3)).toBe(true);
    expect(rec.lines.join('\n')).toMatch(/cross-entropy = −log q\[cat\] = 2\.040/);
  });

  it('is reproducible', async () => {
    const again = (await runNote(run)).result as Result;
    expect(again.init).toEqual(r.init);
  });
});

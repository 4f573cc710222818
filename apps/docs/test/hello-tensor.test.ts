import { describe, expect, it } from 'vitest';
import run from '../notes/hello-tensor.js';
import { runNote } from './record.js';

describe('notes/hello-tensor', () => {
  it('adds with broadcasting and sums the rows', async () => {
    const rec = await runNote(run);
    const result = rec.result as { sum: number[][]; rowSums: number[] };
    expect(result.sum).toEqual([
      [11, 22, 33],
      [14, 25, 36],
    ]);
    expect(result.rowSums).toEqual([66, 75]);
    expect(rec.lines[0]).toBe('Tensor(shape=(2, 3), dtype=float32, backend=cpu)');
    expect(rec.lines[1]).toBe('a + b = [ [ 11, 22, 33 ], [ 14, 25, 36 ] ]');
  });

  it('tabulates the activations at -2..2', async () => {
    const rec = await runNote(run);
    expect(rec.tables).toHaveLength(1);
    const rows = rec.tables[0].rows as { x: number; sigmoid: number; tanh: number; gelu: number }[];
    expect(rows.map((r) => r.x)).toEqual([-2, -1, 0, 1, 2]);
    for (const r of rows) {
      expect(r.sigmoid).toBeCloseTo(1 / (1 + Math.exp(-r.x)), 6);
      expect(r.tanh).toBeCloseTo(Math.tanh(r.x), 6);
    }
    // gelu(x) = x Φ(x): gelu(0) = 0, gelu(1) ≈ 0.841345, gelu(-1) ≈ -0.158655.
    expect(rows[2].gelu).toBeCloseTo(0, 6);
    expect(rows[3].gelu).toBeCloseTo(0.841345, 5);
    expect(rows[1].gelu).toBeCloseTo(-0.158655, 5);
  });

  it('plots three curves of 121 points', async () => {
    const rec = await runNote(run);
    expect(rec.plots).toHaveLength(1);
    expect(rec.plots[0].marks).toHaveLength(3);
    expect((rec.result as { points: number }).points).toBe(3 * 121);
  });
});

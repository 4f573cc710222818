import { describe, expect, it } from 'vitest';
import run from '../notes/shapes-broadcasting-views.js';
import { runNote, type Recording } from './record.js';

interface ViewRow {
  expr: string;
  shape: string;
  strides: string;
  offset: number;
  contiguous: boolean;
  values: string;
}

interface Result {
  similarity: { maxAbsDot: number; cosRange: [number, number]; nearestByCosine: number[]; nearestByDot: number[] };
  views: ViewRow[];
  buffers: { before: number; afterViews: number; afterCopies: number };
  broadcasting: { a: string; b: string; 'a + b': string }[];
  distances: {
    a: number[][];
    b: number[][];
    loop: number[][];
    broadcast: number[][];
    matmul: number[][];
    loopVsBroadcast: number;
    loopVsMatmul: number;
  };
  timings: { N: number; method: string; ms: number }[];
}

// Plain float64 reference, written without @ml/tensor.
const pairwise = (a: number[][], b: number[][]) =>
  a.map((x) => b.map((y) => x.reduce((acc, xi, d) => acc + (xi - y[d]) ** 2, 0)));

const maxAbsDiff = (p: number[][], q: number[][]) =>
  Math.max(...p.flatMap((row, i) => row.map((v, j) => Math.abs(v - q[i][j]))));

describe('note: shapes-broadcasting-views', async () => {
  const t0 = performance.now();
  const rec: Recording = await runNote(run);
  const elapsed = performance.now() - t0;
  const r = rec.result as Result;

  it('runs in well under a few seconds', () => {
    expect(elapsed).toBeLessThan(5000);
  });

  it('shows that dot products leave [−1, 1] while cosines stay inside', () => {
    expect(r.similarity.maxAbsDot).toBeGreaterThan(1);
    const [lo, hi] = r.similarity.cosRange;
    expect(lo).toBeGreaterThanOrEqual(-1 - 1e-6);
    expect(hi).toBeLessThanOrEqual(1 + 1e-6);
    expect(hi).toBeCloseTo(1, 5); // each token's own row has cosine 1
    expect(r.similarity.nearestByCosine).toEqual([5, 0, 3]);
    // The page's point: by raw dot product a longer row can beat a token's own row.
    expect(r.similarity.nearestByDot).toHaveLength(3);
    expect(r.similarity.nearestByDot).not.toEqual([5, 0, 3]);
    expect(rec.lines.some((l) => l.includes('X @ Eᵀ: (3, 4) @ (4, 8) → (3, 8)'))).toBe(true);
  });

  it('reports the shapes, strides and offsets of each view', () => {
    const byExpr = Object.fromEntries(r.views.map((v) => [v.expr, v]));
    const expectView = (expr: string, shape: string, strides: string, offset: number, values: unknown) => {
      const v = byExpr[expr];
      expect(v, expr).toBeDefined();
      expect([v.shape, v.strides, v.offset]).toEqual([shape, strides, offset]);
      expect(JSON.parse(v.values)).toEqual(values);
    };
    expectView('x', '(3, 4)', '(4, 1)', 0, [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9, 10, 11]]);
    expectView('x.transpose()', '(4, 3)', '(1, 4)', 0, [[0, 4, 8], [1, 5, 9], [2, 6, 10], [3, 7, 11]]);
    expectView("x.slice('::2, ::-1')", '(2, 4)', '(8, -1)', 3, [[3, 2, 1, 0], [11, 10, 9, 8]]);
    expectView("x.slice('-1')", '(4,)', '(1,)', 8, [8, 9, 10, 11]);
    expectView('x.reshape([2, 6])', '(2, 6)', '(6, 1)', 0, [[0, 1, 2, 3, 4, 5], [6, 7, 8, 9, 10, 11]]);
    expectView('x.reshape([3, 2, 2]).permute([2, 0, 1])', '(2, 3, 2)', '(1, 4, 2)', 0, [
      [[0, 2], [4, 6], [8, 10]],
      [[1, 3], [5, 7], [9, 11]],
    ]);
    expectView("x.slice('1:2').expand([3, 4])", '(3, 4)', '(0, 1)', 4, [[4, 5, 6, 7], [4, 5, 6, 7], [4, 5, 6, 7]]);
    expect(byExpr['x'].contiguous).toBe(true);
    expect(byExpr['x.transpose()'].contiguous).toBe(false);
  });

  it('copies no data for views, and one buffer each for reshape-of-transpose and contiguous()', () => {
    expect(r.buffers.afterViews).toBe(r.buffers.before);
    expect(r.buffers.afterCopies).toBe(r.buffers.before + 2);
    expect(rec.lines).toContain('v[1, 2] = storage[3 + 1·8 + 2·(-1)] = storage[9] = 9 (read through the view: 9)');
    expect(rec.lines.some((l) => l.startsWith('xt.reshape([12]) = [0,4,8,1,5,9,2,6,10,3,7,11]') && l.includes('strides (3, 1)'))).toBe(true);
  });

  it('broadcasts compatible shapes and names the clash for incompatible ones', () => {
    const result = Object.fromEntries(r.broadcasting.map((row) => [`${row.a} + ${row.b}`, row['a + b']]));
    expect(result['(3, 4) + (4,)']).toBe('(3, 4)');
    expect(result['(3, 1) + (1, 4)']).toBe('(3, 4)');
    expect(result['(8, 1, 6, 1) + (7, 1, 5)']).toBe('(8, 7, 6, 5)');
    expect(result['(5, 1, 2) + (1, 4, 2)']).toBe('(5, 4, 2)');
    expect(result['(3, 4) + (3,)']).toBe('add: shapes (3, 4) and (3,) cannot be broadcast together (dim 1: 4 vs 3)');
    expect(result['(2, 3) + (2,)']).toMatch(/cannot be broadcast together/);
    expect(rec.lines).toContain('(3, 1) + (4,) → [[1,2,3,4],[11,12,13,14],[21,22,23,24]]');
    expect(rec.lines.some((l) => l.includes('strides (1, 0)') && l.includes('strides (0, 1)'))).toBe(true);
  });

  it('computes the same pairwise squared distances three ways', () => {
    const d = r.distances;
    expect([d.a.length, d.a[0].length, d.b.length, d.b[0].length]).toEqual([5, 3, 4, 3]);
    const want = pairwise(d.a, d.b);
    for (const got of [d.loop, d.broadcast, d.matmul]) {
      expect([got.length, got[0].length]).toEqual([5, 4]);
      expect(maxAbsDiff(got, want)).toBeLessThan(1e-4);
      expect(got.flat().every((v) => v >= 0)).toBe(true);
    }
    // (a) and (b) do the same float32 arithmetic: the page says they agree to the last bit.
    expect(maxAbsDiff(d.loop, d.broadcast)).toBe(0);
    expect(d.loopVsBroadcast).toBe(0);
    expect(d.loopVsMatmul).toBeLessThan(1e-4);
  });

  it('times every method at every size, reports progress and plots time against N', () => {
    const sizes = [8, 16, 32, 64];
    const methods = ['double loop', 'broadcast', 'matmul trick'];
    expect(r.timings).toHaveLength(sizes.length * methods.length);
    for (const N of sizes) {
      for (const method of methods) {
        const t = r.timings.find((x) => x.N === N && x.method === method);
        expect(t, `${method} at N = ${N}`).toBeDefined();
        expect(Number.isFinite(t!.ms) && t!.ms > 0).toBe(true);
      }
    }
    // 4096 pairs of ~5 tensor ops each against ~4 ops in all: a gap far beyond timing noise.
    const at64 = (method: string) => r.timings.find((x) => x.N === 64 && x.method === method)!.ms;
    expect(at64('double loop')).toBeGreaterThan(5 * at64('broadcast'));

    expect(rec.progress).toEqual([0.25, 0.5, 0.75, 1]);
    expect(rec.plots).toHaveLength(1);
    const plot = rec.plots[0] as { marks: { data?: unknown }[]; y: { type: string } };
    expect(plot.y.type).toBe('log');
    expect(plot.marks.length).toBeGreaterThanOrEqual(1);
    expect(plot.marks.some((m) => m.data === r.timings)).toBe(true);
    const timingTable = rec.tables.find((t) => t.opts?.caption?.startsWith('Time per call'));
    expect(timingTable?.rows.map((row) => row.N)).toEqual(sizes);
  });
});

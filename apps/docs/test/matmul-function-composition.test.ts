import { describe, expect, it } from 'vitest';
import run, { alpha, comp, construct, distl, distr, insert, IP, MM, trans } from '../notes/matmul-function-composition.js';
import { runNote, type Recording } from './record.js';

type Mat = number[][];

interface Result {
  squareCube: [number, number];
  ipExample: number;
  ipStages: { stage: string; value: string }[];
  mmStages: { s1: unknown; s2: unknown; s3: unknown; s4: unknown };
  mm2x2: Mat;
  ipCalls: { A: Mat; B: Mat; calls: Mat[]; distinctPairs: number; result: Mat };
  checks: { shapes: string; intEqual: boolean; maxAbsDiff: number }[];
}

// Plain triple-loop reference, written without the combinators or @ml/tensor.
const reference = (a: Mat, b: Mat): Mat =>
  a.map((row) => b[0].map((_, j) => row.reduce((acc, v, k) => acc + v * b[k][j], 0)));

// A small seeded generator, so the random cases are the same on every run.
function lcg(seed: number) {
  let s = seed >>> 0;
  return () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
}

describe('note: matmul-function-composition', async () => {
  const rec: Recording = await runNote(run);
  const r = rec.result as Result;

  it("runs the post's construction example and Backus's inner product", () => {
    expect(r.squareCube).toEqual([4, 8]);
    expect(rec.lines).toContain('[square, cube]:2 = [4,8]');
    expect(r.ipExample).toBe(28);
    expect(r.ipStages.map((s) => s.value)).toEqual(['[[1,2,3],[6,5,4]]', '[[1,6],[2,5],[3,4]]', '[6,10,12]', '28']);
  });

  it('traces MM stage by stage on the 2 × 2 example', () => {
    const A = [[1, 2], [3, 4]];
    const Bt = [[5, 7], [6, 8]];
    expect(r.mmStages.s1).toEqual([A, Bt]);
    expect(r.mmStages.s2).toEqual([[A[0], Bt], [A[1], Bt]]);
    expect(r.mmStages.s3).toEqual([
      [[A[0], Bt[0]], [A[0], Bt[1]]],
      [[A[1], Bt[0]], [A[1], Bt[1]]],
    ]);
    expect(r.mmStages.s4).toEqual([[19, 22], [43, 50]]);
    expect(r.mm2x2).toEqual([[19, 22], [43, 50]]);
  });

  it('applies IP exactly once to every row–column pair (not twice to anything)', () => {
    const { A, B, calls, distinctPairs, result } = r.ipCalls;
    const n = A.length, p = B[0].length;
    expect(calls).toHaveLength(n * p);
    expect(distinctPairs).toBe(n * p);
    const cols = trans(B);
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < p; j++) expect(calls[i * p + j]).toEqual([A[i], cols[j]]);
    }
    expect(result).toEqual(reference(A, B));
    expect(rec.lines.some((l) => l.includes('called IP 8 times, on 8 distinct'))).toBe(true);
  });

  it('agrees with matmul from @ml/tensor on random matrices', () => {
    expect(r.checks.map((c) => c.shapes)).toEqual([
      '(1, 1) @ (1, 1)', '(2, 3) @ (3, 4)', '(4, 1) @ (1, 3)', '(3, 5) @ (5, 1)', '(6, 7) @ (7, 5)', '(16, 16) @ (16, 16)',
    ]);
    for (const c of r.checks) {
      expect(c.intEqual, c.shapes).toBe(true);
      expect(c.maxAbsDiff, c.shapes).toBeLessThan(1e-12);
    }
    expect(rec.tables.some((t) => t.opts?.caption === 'MM against matmul on random matrices')).toBe(true);
  });

  it('matches a triple loop on random shapes and values', () => {
    const rand = lcg(2024);
    const int = (lo: number, hi: number) => lo + Math.floor(rand() * (hi - lo + 1));
    for (let trial = 0; trial < 50; trial++) {
      const [n, k, p] = [int(1, 6), int(1, 6), int(1, 6)];
      const A = Array.from({ length: n }, () => Array.from({ length: k }, () => int(-20, 20)));
      const B = Array.from({ length: k }, () => Array.from({ length: p }, () => int(-20, 20)));
      // + 0 turns −0 (a lone product like −3·0 when k = 1) into 0, which toEqual tells apart.
      expect(MM([A, B]).map((row) => row.map((v) => v + 0))).toEqual(reference(A, B));
    }
  });

  it('implements the combining forms as Backus defines them', () => {
    // Insert folds from the right: /−:⟨1, 2, 3⟩ = 1 − (2 − 3) = 2 (a left fold would give −4).
    expect(insert(([x, y]: number[]) => x - y)([1, 2, 3])).toBe(2);
    expect(insert(([x, y]: number[]) => x + y)([7])).toBe(7);
    // Composition applies the rightmost function first.
    expect(comp((x: number) => x + 1, (x: number) => 2 * x)(5)).toBe(11);
    expect(construct((x: number) => x - 1, (x: number) => x + 1)(3)).toEqual([2, 4]);
    expect(alpha((x: number) => x * x)([1, 2, 3])).toEqual([1, 4, 9]);
    expect(trans([[1, 2, 3], [6, 5, 4]])).toEqual([[1, 6], [2, 5], [3, 4]]);
    expect(distl<string, number>(['y', [1, 2]])).toEqual([['y', 1], ['y', 2]]);
    expect(distr<number, string>([[1, 2], 'z'])).toEqual([[1, 'z'], [2, 'z']]);
    expect(IP([[1, 2, 3], [6, 5, 4]])).toBe(28);
  });
});

/** Pooling against float64 window loops (PyTorch's output-size, ceil-mode and divisor rules), gradients, errors. */
import { AdaptiveAvgPool2d, adaptiveAvgPool2d, AvgPool2d, MaxPool2d } from '@ml/nn';
import { memory, random, tensor } from '@ml/tensor';
import { describe, expect, it } from 'vitest';
import { expectClose, expectGradOk, rand64, values } from './layer-helpers.js';

type P2 = [number, number];
interface Win { k: P2; s: P2; p: P2; d: P2; ceil: boolean }

/** PyTorch's pooling output size: floor/ceil of (n + 2p − d(k−1) − 1)/s + 1; a ceil-mode window must start before n + p. */
function poolOut(n: number, k: number, s: number, p: number, d: number, ceil: boolean): number {
  const num = n + 2 * p - d * (k - 1) - 1;
  let o = (ceil ? Math.ceil(num / s) : Math.floor(num / s)) + 1;
  if (ceil && (o - 1) * s >= n + p) o -= 1;
  return o;
}

/** Applies `reduce` to every (n, c) plane's windows; `reduce` gets the in-input values and the window's row/col ranges. */
function poolRef(x: number[], [n, c, h, w]: readonly number[], win: Win, reduce: (vals: number[], r0: number, c0: number) => number): { out: number[]; shape: number[] } {
  const oh = poolOut(h, win.k[0], win.s[0], win.p[0], win.d[0], win.ceil);
  const ow = poolOut(w, win.k[1], win.s[1], win.p[1], win.d[1], win.ceil);
  const out: number[] = [];
  for (let b = 0; b < n * c; b++) {
    for (let y = 0; y < oh; y++) {
      for (let xx = 0; xx < ow; xx++) {
        const vals: number[] = [];
        const r0 = y * win.s[0] - win.p[0];
        const c0 = xx * win.s[1] - win.p[1];
        for (let i = 0; i < win.k[0]; i++) {
          for (let j = 0; j < win.k[1]; j++) {
            const r = r0 + i * win.d[0];
            const col = c0 + j * win.d[1];
            if (r >= 0 && r < h && col >= 0 && col < w) vals.push(x[(b * h + r) * w + col]);
          }
        }
        out.push(reduce(vals, r0, c0));
      }
    }
  }
  return { out, shape: [n, c, oh, ow] };
}

const maxOf = (v: number[]) => v.reduce((a, b) => Math.max(a, b), -Infinity);

/** PyTorch's avg-pool divisor: window size clipped to the padded input, or in-input count (countIncludePad false). */
function avgReduce(win: Win, [h, w]: P2, includePad: boolean, override: number | null) {
  return (vals: number[], r0: number, c0: number): number => {
    const sum = vals.reduce((a, b) => a + b, 0);
    if (override !== null) return sum / override;
    if (!includePad) return sum / vals.length;
    const rows = Math.min(r0 + win.k[0], h + win.p[0]) - r0;
    const cols = Math.min(c0 + win.k[1], w + win.p[1]) - c0;
    return sum / (rows * cols);
  };
}

describe('MaxPool2d', () => {
  const cases: { name: string; k: P2 | number; opts: ConstructorParameters<typeof MaxPool2d>[1]; win: Win; hw: P2 }[] = [
    { name: 'kernel 2 (stride defaults to the kernel)', k: 2, opts: {}, win: { k: [2, 2], s: [2, 2], p: [0, 0], d: [1, 1], ceil: false }, hw: [6, 7] },
    { name: 'kernel 3, stride 2, padding 1', k: 3, opts: { stride: 2, padding: 1 }, win: { k: [3, 3], s: [2, 2], p: [1, 1], d: [1, 1], ceil: false }, hw: [7, 6] },
    { name: 'rectangular, dilation 2', k: [2, 3], opts: { stride: [1, 2], padding: [1, 1], dilation: 2 }, win: { k: [2, 3], s: [1, 2], p: [1, 1], d: [2, 2], ceil: false }, hw: [6, 8] },
    { name: 'ceil mode', k: 2, opts: { ceilMode: true }, win: { k: [2, 2], s: [2, 2], p: [0, 0], d: [1, 1], ceil: true }, hw: [7, 5] },
    { name: 'ceil mode where the last window would start in the right padding', k: 2, opts: { stride: 3, padding: 1, ceilMode: true }, win: { k: [2, 2], s: [3, 3], p: [1, 1], d: [1, 1], ceil: true }, hw: [4, 8] },
  ];
  for (const c of cases) {
    it(`matches the window maximum: ${c.name}`, () => {
      const pool = new MaxPool2d(c.k, c.opts);
      const xs = [2, 3, ...c.hw];
      const x = rand64(1, xs);
      const ref = poolRef(values(x), xs, c.win, maxOf);
      const y = pool.forward(x);
      expect(y.shape).toEqual(ref.shape);
      expectClose(values(y), ref.out, 0);
      expect(pool.forward(x.slice([0])).shape).toEqual(ref.shape.slice(1));
    });
  }

  it('gradient goes to the window maxima (gradcheck, distinct values), also in ceil mode', () => {
    expectGradOk((x) => new MaxPool2d(3, { stride: 2, padding: 1, ceilMode: true }).forward(x), [rand64(2, [1, 2, 6, 5])]);
    expectGradOk((x) => new MaxPool2d(2, { dilation: 2, stride: 1 }).forward(x), [rand64(3, [2, 1, 5, 5])]);
  });

  it('repr and errors', () => {
    expect(new MaxPool2d(2).toString()).toBe('MaxPool2d(kernel_size=2, stride=2, padding=0, dilation=1, ceil_mode=false)');
    expect(new MaxPool2d([3, 2], { stride: 1 }).extraRepr()).toBe('kernel_size=(3, 2), stride=1, padding=0, dilation=1, ceil_mode=false');
    expect(() => new MaxPool2d(2).forward(rand64(0, [4, 4]))).toThrow('MaxPool2d.forward: expected input (N, C, H, W) or (C, H, W), got (4, 4)');
    expect(() => new MaxPool2d(2, { padding: 2 })).toThrow('MaxPool2d: padding (2, 2) must be at most half the kernel size (2, 2)');
    expect(() => new MaxPool2d(0)).toThrow('MaxPool2d: kernelSize must be a positive integer, got 0');
    expect(() => new MaxPool2d(5).forward(rand64(0, [1, 1, 4, 8]))).toThrow('MaxPool2d.forward: kernel (5, 5) with dilation (1, 1) spans 5 but the padded input is 4 along spatial dim 0 (input (1, 1, 4, 8))');
  });
});

describe('AvgPool2d', () => {
  const cases: { name: string; k: P2 | number; opts: ConstructorParameters<typeof AvgPool2d>[1]; win: Win; hw: P2 }[] = [
    { name: 'kernel 2', k: 2, opts: {}, win: { k: [2, 2], s: [2, 2], p: [0, 0], d: [1, 1], ceil: false }, hw: [6, 4] },
    { name: 'padding 1, counting the padding', k: 3, opts: { stride: 2, padding: 1 }, win: { k: [3, 3], s: [2, 2], p: [1, 1], d: [1, 1], ceil: false }, hw: [7, 6] },
    { name: 'padding 1, not counting the padding', k: 3, opts: { stride: 2, padding: 1, countIncludePad: false }, win: { k: [3, 3], s: [2, 2], p: [1, 1], d: [1, 1], ceil: false }, hw: [7, 6] },
    { name: 'ceil mode with padding (divisor clipped to the padded input)', k: [3, 2], opts: { stride: 2, padding: 1, ceilMode: true }, win: { k: [3, 2], s: [2, 2], p: [1, 1], d: [1, 1], ceil: true }, hw: [6, 7] },
    { name: 'ceil mode, not counting the padding', k: 3, opts: { stride: 2, padding: 1, ceilMode: true, countIncludePad: false }, win: { k: [3, 3], s: [2, 2], p: [1, 1], d: [1, 1], ceil: true }, hw: [6, 8] },
    { name: 'divisor override', k: 2, opts: { stride: 1, divisorOverride: 3 }, win: { k: [2, 2], s: [1, 1], p: [0, 0], d: [1, 1], ceil: false }, hw: [4, 5] },
  ];
  for (const c of cases) {
    it(`matches the window average: ${c.name}`, () => {
      const pool = new AvgPool2d(c.k, c.opts);
      const xs = [2, 3, ...c.hw];
      const x = rand64(4, xs);
      const ref = poolRef(values(x), xs, c.win, avgReduce(c.win, c.hw, c.opts?.countIncludePad ?? true, c.opts?.divisorOverride ?? null));
      const y = pool.forward(x);
      expect(y.shape).toEqual(ref.shape);
      expectClose(values(y), ref.out, 1e-12);
      const y1 = pool.forward(x.slice([1]));
      expect(y1.shape).toEqual(ref.shape.slice(1));
      expectClose(values(y1), ref.out.slice(ref.out.length / 2), 1e-12);
    });
  }

  it('gradients pass gradcheck (plain and ceil-mode paths)', () => {
    expectGradOk((x) => new AvgPool2d(3, { stride: 2, padding: 1, countIncludePad: false }).forward(x), [rand64(5, [1, 2, 5, 6])]);
    expectGradOk((x) => new AvgPool2d(2, { ceilMode: true, divisorOverride: 5 }).forward(x), [rand64(6, [2, 1, 5, 3])]);
  });

  it('leaves no tensors behind; repr; errors', () => {
    const pool = new AvgPool2d(3, { stride: 2, padding: 1, ceilMode: true });
    const x = random.normal(random.key(0), [1, 2, 6, 6]);
    const before = memory().tensors;
    pool.forward(x).dispose();
    expect(memory().tensors).toBe(before);
    expect(pool.toString()).toBe('AvgPool2d(kernel_size=3, stride=2, padding=1)');
    expect(() => pool.forward(rand64(0, [1, 1, 1, 2, 2]))).toThrow('AvgPool2d.forward: expected input (N, C, H, W) or (C, H, W), got (1, 1, 1, 2, 2)');
    expect(() => new AvgPool2d(2, { divisorOverride: 0 })).toThrow('AvgPool2d: divisorOverride must be a non-zero number, got 0');
    expect(() => new AvgPool2d(2, { stride: -1 })).toThrow('AvgPool2d: stride must be a positive integer, got -1');
  });
});

describe('AdaptiveAvgPool2d', () => {
  /** out[i, j] = mean of x over rows [⌊iH/oh⌋, ⌈(i+1)H/oh⌉) and columns [⌊jW/ow⌋, ⌈(j+1)W/ow⌉). */
  function adaptiveRef(x: number[], [n, c, h, w]: readonly number[], oh: number, ow: number): number[] {
    const out: number[] = [];
    for (let b = 0; b < n * c; b++) {
      for (let i = 0; i < oh; i++) {
        for (let j = 0; j < ow; j++) {
          const [r0, r1] = [Math.floor((i * h) / oh), Math.ceil(((i + 1) * h) / oh)];
          const [c0, c1] = [Math.floor((j * w) / ow), Math.ceil(((j + 1) * w) / ow)];
          let s = 0;
          for (let r = r0; r < r1; r++) for (let col = c0; col < c1; col++) s += x[(b * h + r) * w + col];
          out.push(s / ((r1 - r0) * (c1 - c0)));
        }
      }
    }
    return out;
  }

  it('averages PyTorch bins (overlapping when the size does not divide), for any input size', () => {
    for (const [hw, size, expected] of [
      [[7, 10], [3, 4], [3, 4]],
      [[5, 5], 1, [1, 1]],
      [[6, 9], [6, 9], [6, 9]],
      [[4, 7], [2, null], [2, 7]],
      [[3, 2], [5, 4], [5, 4]], // larger than the input: bins repeat pixels
    ] as const) {
      const xs = [2, 3, ...hw];
      const x = rand64(7, xs);
      const y = new AdaptiveAvgPool2d(size as [number, number | null]).forward(x);
      expect(y.shape).toEqual([2, 3, ...expected]);
      expectClose(values(y), adaptiveRef(values(x), xs, expected[0], expected[1]), 1e-12);
    }
    const x3 = rand64(8, [2, 5, 5]);
    expectClose(values(adaptiveAvgPool2d(x3, 2)), adaptiveRef(values(x3), [1, 2, 5, 5], 2, 2), 1e-12);
  });

  it('leaves no tensors behind (adaptive, ceil-mode max pooling)', () => {
    const x = random.normal(random.key(0), [1, 2, 7, 7]);
    const before = memory().tensors;
    new AdaptiveAvgPool2d(3).forward(x).dispose();
    new MaxPool2d(2, { ceilMode: true }).forward(x).dispose();
    expect(memory().tensors).toBe(before);
  });

  it('gradient passes gradcheck; repr; errors', () => {
    expectGradOk((x) => adaptiveAvgPool2d(x, [3, 2]), [rand64(9, [1, 2, 5, 7])]);
    expect(new AdaptiveAvgPool2d(7).toString()).toBe('AdaptiveAvgPool2d(output_size=7)');
    expect(new AdaptiveAvgPool2d([3, null]).extraRepr()).toBe('output_size=(3, None)');
    expect(() => new AdaptiveAvgPool2d(0)).toThrow('AdaptiveAvgPool2d: outputSize must be a positive integer, got 0');
    expect(() => new AdaptiveAvgPool2d(2).forward(rand64(0, [8]))).toThrow('AdaptiveAvgPool2d.forward: expected input (N, C, H, W) or (C, H, W), got (8,)');
    expect(() => adaptiveAvgPool2d(tensor([[[1]]], { dtype: 'int32' }), 1)).toThrow('adaptiveAvgPool2d: input must be float32 or float64, got int32');
  });
});

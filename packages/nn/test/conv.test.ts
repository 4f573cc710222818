/**
 * Convolutions against direct float64 loops (cross-correlation by its definition; the transposed
 * convolution as a scatter), the adjoint identity ⟨conv(x), y⟩ = ⟨x, convT(y)⟩, gradchecks,
 * initialisation, printing and errors.
 */
import { Conv1d, Conv2d, ConvTranspose1d, ConvTranspose2d, convTranspose2d } from '@ml/nn';
import { conv2d, memory, random, scope } from '@ml/tensor';
import { describe, expect, it } from 'vitest';
import { expectClose, expectGradOk, expectModuleGradOk, rand64, values } from './layer-helpers.js';

type P2 = [number, number];
interface ConvCfg { stride: P2; padBefore: P2; padAfter: P2; dilation: P2; groups: number }

/** out[n, o, y, x] = b[o] + Σ w[o, c, i, j]·x[n, g·Cg + c, y·s − p + i·d, x·s − p + j·d] (zero outside). */
function conv2dRef(x: number[], [n, cIn, h, w]: readonly number[], wt: number[], [cOut, cg, kh, kw]: readonly number[], b: number[] | null, c: ConvCfg): { out: number[]; shape: number[] } {
  const oh = Math.floor((h + c.padBefore[0] + c.padAfter[0] - c.dilation[0] * (kh - 1) - 1) / c.stride[0]) + 1;
  const ow = Math.floor((w + c.padBefore[1] + c.padAfter[1] - c.dilation[1] * (kw - 1) - 1) / c.stride[1]) + 1;
  const og = cOut / c.groups;
  const out: number[] = [];
  for (let b0 = 0; b0 < n; b0++) {
    for (let o = 0; o < cOut; o++) {
      const g = Math.floor(o / og);
      for (let y = 0; y < oh; y++) {
        for (let xx = 0; xx < ow; xx++) {
          let s = b ? b[o] : 0;
          for (let ci = 0; ci < cg; ci++) {
            for (let i = 0; i < kh; i++) {
              for (let j = 0; j < kw; j++) {
                const iy = y * c.stride[0] - c.padBefore[0] + i * c.dilation[0];
                const ix = xx * c.stride[1] - c.padBefore[1] + j * c.dilation[1];
                if (iy < 0 || iy >= h || ix < 0 || ix >= w) continue;
                s += wt[((o * cg + ci) * kh + i) * kw + j] * x[((b0 * cIn + g * cg + ci) * h + iy) * w + ix];
              }
            }
          }
          out.push(s);
        }
      }
    }
  }
  return { out, shape: [n, cOut, oh, ow] };
}

interface TCfg { stride: P2; padding: P2; outputPadding: P2; dilation: P2; groups: number }

/** Scatter: out[n, g·Og + o, y·s − p + i·d, x·s − p + j·d] += x[n, c, y, x]·w[c, o, i, j], inside the output only. */
function convT2dRef(x: number[], [n, cIn, h, w]: readonly number[], wt: number[], [, og, kh, kw]: readonly number[], b: number[] | null, c: TCfg): { out: number[]; shape: number[] } {
  const oh = (h - 1) * c.stride[0] - 2 * c.padding[0] + c.dilation[0] * (kh - 1) + c.outputPadding[0] + 1;
  const ow = (w - 1) * c.stride[1] - 2 * c.padding[1] + c.dilation[1] * (kw - 1) + c.outputPadding[1] + 1;
  const cOut = og * c.groups;
  const cg = cIn / c.groups;
  const out = new Array<number>(n * cOut * oh * ow).fill(0);
  for (let b0 = 0; b0 < n; b0++) {
    for (let ci = 0; ci < cIn; ci++) {
      const g = Math.floor(ci / cg);
      for (let y = 0; y < h; y++) {
        for (let xx = 0; xx < w; xx++) {
          const v = x[((b0 * cIn + ci) * h + y) * w + xx];
          for (let o = 0; o < og; o++) {
            for (let i = 0; i < kh; i++) {
              for (let j = 0; j < kw; j++) {
                const oy = y * c.stride[0] - c.padding[0] + i * c.dilation[0];
                const ox = xx * c.stride[1] - c.padding[1] + j * c.dilation[1];
                if (oy < 0 || oy >= oh || ox < 0 || ox >= ow) continue;
                out[((b0 * cOut + g * og + o) * oh + oy) * ow + ox] += v * wt[((ci * og + o) * kh + i) * kw + j];
              }
            }
          }
        }
      }
    }
  }
  if (b) for (let i = 0; i < out.length; i++) out[i] += b[Math.floor(i / (oh * ow)) % cOut];
  return { out, shape: [n, cOut, oh, ow] };
}

const sym = (p: P2): Pick<ConvCfg, 'padBefore' | 'padAfter'> => ({ padBefore: p, padAfter: p });

describe('Conv2d', () => {
  const cases: { name: string; cin: number; cout: number; k: P2; opts: ConstructorParameters<typeof Conv2d>[3]; cfg: ConvCfg; hw: P2 }[] = [
    { name: 'plain 3×3', cin: 3, cout: 4, k: [3, 3], opts: {}, cfg: { stride: [1, 1], ...sym([0, 0]), dilation: [1, 1], groups: 1 }, hw: [6, 7] },
    { name: 'stride 2, padding 1', cin: 2, cout: 3, k: [3, 3], opts: { stride: 2, padding: 1 }, cfg: { stride: [2, 2], ...sym([1, 1]), dilation: [1, 1], groups: 1 }, hw: [7, 8] },
    { name: 'rectangular kernel, pair stride/padding, dilation', cin: 2, cout: 2, k: [2, 3], opts: { stride: [2, 1], padding: [1, 2], dilation: [2, 1] }, cfg: { stride: [2, 1], ...sym([1, 2]), dilation: [2, 1], groups: 1 }, hw: [7, 5] },
    { name: 'groups 2', cin: 4, cout: 6, k: [3, 3], opts: { groups: 2, padding: 1 }, cfg: { stride: [1, 1], ...sym([1, 1]), dilation: [1, 1], groups: 2 }, hw: [5, 5] },
    { name: 'depthwise (groups = channels), dilation 2', cin: 3, cout: 3, k: [3, 3], opts: { groups: 3, dilation: 2, padding: 2 }, cfg: { stride: [1, 1], ...sym([2, 2]), dilation: [2, 2], groups: 3 }, hw: [6, 6] },
    { name: "'same' with an even kernel (extra padding at the end)", cin: 2, cout: 2, k: [4, 2], opts: { padding: 'same' }, cfg: { stride: [1, 1], padBefore: [1, 0], padAfter: [2, 1], dilation: [1, 1], groups: 1 }, hw: [5, 6] },
    { name: "'valid', no bias", cin: 1, cout: 2, k: [2, 2], opts: { padding: 'valid', bias: false }, cfg: { stride: [1, 1], ...sym([0, 0]), dilation: [1, 1], groups: 1 }, hw: [4, 4] },
  ];
  for (const c of cases) {
    it(`matches the direct convolution: ${c.name}`, () => {
      const conv = new Conv2d(c.cin, c.cout, c.k, { ...c.opts, dtype: 'float64', key: random.key(1) });
      const xs = [2, c.cin, ...c.hw];
      const x = rand64(2, xs);
      const ref = conv2dRef(values(x), xs, values(conv.weight), conv.weight.shape, conv.bias ? values(conv.bias) : null, c.cfg);
      const y = conv.forward(x);
      expect(y.shape).toEqual(ref.shape);
      expectClose(values(y), ref.out, 1e-12);
      // unbatched input: (C, H, W) → (C_out, oh, ow)
      const x1 = x.slice([0]);
      const y1 = conv.forward(x1);
      expect(y1.shape).toEqual(ref.shape.slice(1));
      expectClose(values(y1), ref.out.slice(0, ref.out.length / 2), 1e-12);
      conv.dispose();
    });
  }

  it('gradients with respect to input, weight and bias pass gradcheck (stride, padding, dilation, groups)', () => {
    const conv = new Conv2d(4, 2, [2, 3], { stride: [2, 1], padding: 1, dilation: [1, 2], groups: 2, dtype: 'float64' });
    expectModuleGradOk(conv, rand64(3, [2, 4, 5, 6]), ['weight', 'bias']);
    conv.dispose();
  });

  it('initialises from U(−1/√fanIn, 1/√fanIn) with fanIn = in/groups·kh·kw; PyTorch names and repr', () => {
    const conv = new Conv2d(8, 16, 3, { groups: 2 });
    const bound = 1 / Math.sqrt(4 * 9);
    const w = values(conv.weight);
    expect(conv.weight.shape).toEqual([16, 4, 3, 3]);
    expect(w.every((v) => Math.abs(v) <= bound)).toBe(true);
    expect(w.some((v) => Math.abs(v) > 0.9 * bound)).toBe(true);
    expect(values(conv.bias!).every((v) => Math.abs(v) <= bound)).toBe(true);
    expect(Object.keys(scope(() => conv.stateDict({ naming: 'pytorch' })))).toEqual(['weight', 'bias']);
    expect(conv.toString()).toBe('Conv2d(8, 16, kernel_size=(3, 3), stride=(1, 1), groups=2)');
    expect(new Conv2d(3, 16, [3, 5], { stride: 2, padding: [1, 2], dilation: 2, bias: false }).extraRepr()).toBe(
      '3, 16, kernel_size=(3, 5), stride=(2, 2), padding=(1, 2), dilation=(2, 2), bias=false',
    );
    expect(new Conv2d(3, 16, 3, { padding: 'same' }).extraRepr()).toBe('3, 16, kernel_size=(3, 3), stride=(1, 1), padding=same');
    conv.dispose();
  });

  it('leaves no tensors behind', () => {
    const conv = new Conv2d(2, 3, 3, { padding: 'same' });
    const x = random.normal(random.key(0), [1, 2, 5, 5]);
    const before = memory().tensors;
    conv.forward(x).dispose();
    expect(memory().tensors).toBe(before);
  });

  it('rejects bad arguments and inputs with clear errors', () => {
    const conv = new Conv2d(3, 8, 3);
    expect(() => conv.forward(random.normal(random.key(0), [8, 1, 28, 28]))).toThrow('Conv2d.forward: expected input (N, 3, H, W) or (3, H, W), got (8, 1, 28, 28)');
    expect(() => conv.forward(random.normal(random.key(0), [3, 28]))).toThrow('Conv2d.forward: expected input (N, 3, H, W) or (3, H, W), got (3, 28)');
    expect(() => conv.forward(random.normal(random.key(0), [1, 3, 2, 5]))).toThrow('Conv2d.forward: kernel (3, 3) with dilation (1, 1) spans 3 but the padded input is 2 along spatial dim 0 (input (1, 3, 2, 5))');
    expect(() => new Conv2d(-3, 8, 3)).toThrow('Conv2d: inChannels must be a positive integer, got -3');
    expect(() => new Conv2d(3, 8, 0)).toThrow('Conv2d: kernelSize must be a positive integer, got 0');
    expect(() => new Conv2d(3, 8, 3, { padding: -1 })).toThrow('Conv2d: padding must be a non-negative integer, got -1');
    expect(() => new Conv2d(4, 6, 3, { groups: 4 })).toThrow('Conv2d: groups=4 must divide outChannels=6');
    expect(() => new Conv2d(3, 6, 3, { groups: 2 })).toThrow('Conv2d: groups=2 must divide inChannels=3');
    expect(() => new Conv2d(3, 6, 3, { stride: 2, padding: 'same' })).toThrow("Conv2d: padding='same' requires stride 1, got stride (2, 2)");
    expect(() => new Conv2d(3, 6, [3, 3, 3] as unknown as number)).toThrow('Conv2d: kernelSize must be a number or a pair of numbers, got [3,3,3]');
  });
});

describe('Conv1d', () => {
  it('matches the direct convolution (stride, padding, dilation, groups, same)', () => {
    const configs: [ConstructorParameters<typeof Conv1d>[3], number, ConvCfg][] = [
      [{ stride: 2, padding: 1, dilation: 2 }, 3, { stride: [1, 2], ...sym([0, 1]), dilation: [1, 2], groups: 1 }],
      [{ groups: 2 }, 2, { stride: [1, 1], ...sym([0, 0]), dilation: [1, 1], groups: 2 }],
      [{ padding: 'same' }, 4, { stride: [1, 1], padBefore: [0, 1], padAfter: [0, 2], dilation: [1, 1], groups: 1 }],
    ];
    for (const [opts, k, cfg] of configs) {
      const conv = new Conv1d(4, 6, k, { ...opts, dtype: 'float64' });
      const x = rand64(5, [3, 4, 11]);
      const ref = conv2dRef(values(x), [3, 4, 1, 11], values(conv.weight), [6, 4 / cfg.groups, 1, k], values(conv.bias!), cfg);
      const y = conv.forward(x);
      expect(y.shape).toEqual([3, 6, ref.shape[3]]);
      expectClose(values(y), ref.out, 1e-12);
      conv.dispose();
    }
  });

  it('gradients pass gradcheck; repr; errors', () => {
    const conv = new Conv1d(2, 4, 3, { stride: 2, padding: 1, groups: 2, dtype: 'float64' });
    expectModuleGradOk(conv, rand64(6, [2, 2, 7]), ['weight', 'bias']);
    expect(conv.toString()).toBe('Conv1d(2, 4, kernel_size=(3,), stride=(2,), padding=(1,), groups=2)');
    expect(() => conv.forward(rand64(0, [2, 3, 7]))).toThrow('Conv1d.forward: expected input (N, 2, L) or (2, L), got (2, 3, 7)');
    expect(() => conv.forward(rand64(0, [2, 2, 0]))).toThrow('Conv1d.forward: kernel (3,) with dilation (1,) spans 3 but the padded input is 2');
    expect(() => new Conv1d(2, 4, 3, { stride: 0 })).toThrow('Conv1d: stride must be a positive integer, got 0');
  });
});

describe('ConvTranspose2d', () => {
  const cases: { name: string; cin: number; cout: number; k: P2; cfg: TCfg; hw: P2 }[] = [
    { name: 'stride 1', cin: 2, cout: 3, k: [3, 3], cfg: { stride: [1, 1], padding: [0, 0], outputPadding: [0, 0], dilation: [1, 1], groups: 1 }, hw: [4, 5] },
    { name: 'stride 2, padding 1, outputPadding 1', cin: 3, cout: 2, k: [3, 3], cfg: { stride: [2, 2], padding: [1, 1], outputPadding: [1, 1], dilation: [1, 1], groups: 1 }, hw: [4, 3] },
    { name: 'stride (3, 2), padding (0, 2), outputPadding (2, 1) (rows past the taps)', cin: 2, cout: 2, k: [2, 3], cfg: { stride: [3, 2], padding: [0, 2], outputPadding: [2, 1], dilation: [1, 1], groups: 1 }, hw: [3, 4] },
    { name: 'dilation 3 with outputPadding 2 ≥ stride 1', cin: 2, cout: 2, k: [2, 2], cfg: { stride: [1, 1], padding: [1, 0], outputPadding: [2, 0], dilation: [3, 1], groups: 1 }, hw: [4, 4] },
    { name: 'groups 2', cin: 4, cout: 6, k: [3, 2], cfg: { stride: [2, 1], padding: [1, 0], outputPadding: [0, 0], dilation: [1, 2], groups: 2 }, hw: [3, 4] },
  ];
  for (const c of cases) {
    it(`matches the direct scatter: ${c.name}`, () => {
      const layer = new ConvTranspose2d(c.cin, c.cout, c.k, { ...c.cfg, dtype: 'float64', key: random.key(4) });
      expect(layer.weight.shape).toEqual([c.cin, c.cout / c.cfg.groups, ...c.k]);
      const xs = [2, c.cin, ...c.hw];
      const x = rand64(7, xs);
      const ref = convT2dRef(values(x), xs, values(layer.weight), layer.weight.shape, values(layer.bias!), c.cfg);
      const y = layer.forward(x);
      expect(y.shape).toEqual(ref.shape);
      expectClose(values(y), ref.out, 1e-12);
      const y1 = layer.forward(x.slice([1]));
      expect(y1.shape).toEqual(ref.shape.slice(1));
      expectClose(values(y1), ref.out.slice(ref.out.length / 2), 1e-12);
      layer.dispose();
    });
  }

  it('is the adjoint of conv2d with the same weight: ⟨conv(x), y⟩ = ⟨x, convT(y)⟩', () => {
    const configs: { k: P2; stride: P2; padding: P2; dilation: P2; groups: number; hw: P2 }[] = [
      { k: [3, 3], stride: [1, 1], padding: [1, 1], dilation: [1, 1], groups: 1, hw: [6, 6] },
      { k: [3, 2], stride: [2, 3], padding: [1, 0], dilation: [1, 1], groups: 1, hw: [9, 8] },
      { k: [2, 3], stride: [2, 2], padding: [0, 2], dilation: [2, 3], groups: 3, hw: [8, 10] },
    ];
    for (const c of configs) {
      const [a, b] = [3, 6]; // conv: A → B channels; convT: B → A
      const w = rand64(10, [b, a / c.groups, ...c.k]);
      const x = rand64(11, [2, a, ...c.hw]);
      const cx = conv2d(x, w, null, { stride: c.stride, padding: c.padding, dilation: c.dilation, groups: c.groups });
      const y = rand64(12, cx.shape);
      // the output padding that makes convT's output the size of x
      const outputPadding = [0, 1].map((d) => (c.hw[d] + 2 * c.padding[d] - c.dilation[d] * (c.k[d] - 1) - 1) % c.stride[d]) as P2;
      const ty = convTranspose2d(y, w, null, { stride: c.stride, padding: c.padding, dilation: c.dilation, groups: c.groups, outputPadding });
      expect(ty.shape).toEqual(x.shape);
      const lhs = values(cx).reduce((s, v, i) => s + v * values(y)[i], 0);
      const xv = values(x);
      const rhs = values(ty).reduce((s, v, i) => s + v * xv[i], 0);
      expect(Math.abs(lhs - rhs)).toBeLessThan(1e-10 * Math.max(1, Math.abs(lhs)));
    }
  });

  it('gradients pass gradcheck', () => {
    const layer = new ConvTranspose2d(4, 2, [3, 2], { stride: 2, padding: [1, 0], outputPadding: [1, 0], groups: 2, dilation: [1, 2], dtype: 'float64' });
    expectModuleGradOk(layer, rand64(13, [2, 4, 3, 3]), ['weight', 'bias']);
    expectGradOk((x, w) => convTranspose2d(x, w, null, { stride: 3, padding: 1, outputPadding: 2 }), [rand64(14, [1, 2, 2, 3]), rand64(15, [2, 3, 2, 2])]);
    layer.dispose();
  });

  it('leaves no tensors behind (including the output-padding path)', () => {
    const layer = new ConvTranspose2d(2, 3, 3, { stride: 2, padding: 1, outputPadding: 1 });
    const t1 = new ConvTranspose1d(2, 2, 3, { stride: 3, outputPadding: 2 });
    const x = random.normal(random.key(0), [2, 2, 4, 4]);
    const x1 = random.normal(random.key(1), [2, 5]);
    const before = memory();
    for (let i = 0; i < 2; i++) layer.forward(x).dispose();
    t1.forward(x1).dispose();
    expect(memory().tensors).toBe(before.tensors);
    expect(memory().buffers).toBe(before.buffers);
  });

  it('initialisation, repr and errors', () => {
    const layer = new ConvTranspose2d(16, 8, 4, { stride: 2, padding: 1 });
    const bound = 1 / Math.sqrt(8 * 16); // fanIn from the weight (16, 8, 4, 4): 8·16
    expect(values(layer.weight).every((v) => Math.abs(v) <= bound)).toBe(true);
    expect(values(layer.weight).some((v) => Math.abs(v) > 0.9 * bound)).toBe(true);
    expect(layer.toString()).toBe('ConvTranspose2d(16, 8, kernel_size=(4, 4), stride=(2, 2), padding=(1, 1))');
    expect(layer.forward(random.normal(random.key(0), [1, 16, 14, 14])).shape).toEqual([1, 8, 28, 28]);
    expect(new ConvTranspose2d(2, 4, 3, { stride: 2, outputPadding: 1, groups: 2, bias: false }).extraRepr()).toBe(
      '2, 4, kernel_size=(3, 3), stride=(2, 2), output_padding=(1, 1), groups=2, bias=false',
    );
    expect(() => layer.forward(random.normal(random.key(0), [1, 8, 14, 14]))).toThrow('ConvTranspose2d.forward: expected input (N, 16, H, W) or (16, H, W) for weight (16, 8, 4, 4), got (1, 8, 14, 14)');
    expect(() => new ConvTranspose2d(2, 2, 3, { stride: 2, outputPadding: 2 })).toThrow('ConvTranspose2d: outputPadding (2, 2) must be smaller than stride (2, 2) or dilation (1, 1)');
    expect(() => new ConvTranspose2d(2, 3, 3, { groups: 2 })).toThrow('ConvTranspose2d: groups=2 must divide outChannels=3');
    expect(() => new ConvTranspose2d(2, 3, 3, { padding: 2 }).forward(rand64(0, [1, 2, 1, 1]))).toThrow('ConvTranspose2d.forward: the output size (-1, -1) is not positive');
    layer.dispose();
  });
});

describe('ConvTranspose1d', () => {
  it('matches the direct scatter and passes gradcheck', () => {
    const layer = new ConvTranspose1d(4, 2, 3, { stride: 2, padding: 1, outputPadding: 1, groups: 2, dtype: 'float64' });
    const x = rand64(16, [2, 4, 5]);
    const cfg: TCfg = { stride: [1, 2], padding: [0, 1], outputPadding: [0, 1], dilation: [1, 1], groups: 2 };
    const ref = convT2dRef(values(x), [2, 4, 1, 5], values(layer.weight), [4, 1, 1, 3], values(layer.bias!), cfg);
    const y = layer.forward(x);
    expect(y.shape).toEqual([2, 2, 10]);
    expectClose(values(y), ref.out, 1e-12);
    expectModuleGradOk(layer, rand64(17, [1, 4, 3]), ['weight', 'bias']);
    expect(layer.toString()).toBe('ConvTranspose1d(4, 2, kernel_size=(3,), stride=(2,), padding=(1,), output_padding=(1,), groups=2)');
    expect(() => layer.forward(rand64(0, [2, 3, 5]))).toThrow('ConvTranspose1d.forward: expected input (N, 4, L) or (4, L), got (2, 3, 5)');
    layer.dispose();
  });
});

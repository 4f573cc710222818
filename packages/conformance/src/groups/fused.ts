/**
 * The fused primitives: conv2d (im2col and matmul in one, called directly and through the public
 * `conv2d` op) and adamStep (a whole Adam update in one pass), against float64 loops of the
 * textbook formulas written here, on every memory layout; and their error messages.
 */
import type { DType, Tensor } from '@ml/tensor';
import * as T from '@ml/tensor';
import { describe, expect } from 'vitest';
import type { Input, Layout, SuiteContext } from '../harness.js';
import { caseIt, check, describeInput, floatDtypes, LAYOUTS, randomInput, rngFor } from '../harness.js';
import * as R from '../reference.js';
import type { RefArray } from '../reference.js';
import { expectOpError } from './errors.js';

type Pair = readonly [number, number];

// ---------------------------------------------------------------- conv2d

/** A convolution window: padding before and after each spatial dim (they differ for 'same'). */
interface Window {
  readonly stride: Pair;
  readonly before: Pair;
  readonly after: Pair;
  readonly dilation: Pair;
}

/**
 * out[n, o, y, x] = bias[o] + Σ_{c, i, j} w[o, c, i, j] · x[n, c, y·sh − pt + i·dh, x·sw − pl + j·dw],
 * 0 outside the image, in float64; with the sum of the magnitudes of the terms (the error scale).
 */
function convRef(x: RefArray, w: RefArray, bias: RefArray | null, win: Window): { y: RefArray; scale: Float64Array } {
  const [n, c, h, wd] = x.shape;
  const [o, , kh, kw] = w.shape;
  const span = (size: number, d: 0 | 1, k: number) =>
    Math.floor((size + win.before[d] + win.after[d] - win.dilation[d] * (k - 1) - 1) / win.stride[d]) + 1;
  const oh = span(h, 0, kh);
  const ow = span(wd, 1, kw);
  const y = R.makeRef([n, o, oh, ow]);
  const scale = new Float64Array(y.data.length);
  for (let b = 0; b < n; b++) {
    for (let f = 0; f < o; f++) {
      for (let oy = 0; oy < oh; oy++) {
        for (let ox = 0; ox < ow; ox++) {
          let s = bias ? bias.data[f] : 0;
          let a = Math.abs(s);
          for (let ch = 0; ch < c; ch++) {
            for (let i = 0; i < kh; i++) {
              for (let j = 0; j < kw; j++) {
                const iy = oy * win.stride[0] - win.before[0] + i * win.dilation[0];
                const ix = ox * win.stride[1] - win.before[1] + j * win.dilation[1];
                if (iy < 0 || iy >= h || ix < 0 || ix >= wd) continue;
                const t = w.data[((f * c + ch) * kh + i) * kw + j] * x.data[((b * c + ch) * h + iy) * wd + ix];
                s += t;
                a += Math.abs(t);
              }
            }
          }
          const at = ((b * o + f) * oh + oy) * ow + ox;
          y.data[at] = s;
          scale[at] = a;
        }
      }
    }
  }
  return { y, scale };
}

/** One convolution through the public op: shapes, options, and the window they mean. */
interface ConvCase {
  readonly label: string;
  /** (N, C, H, W), or (C, H, W) unbatched. */
  readonly x: readonly number[];
  readonly w: readonly number[];
  readonly bias: boolean;
  readonly opts: T.Conv2dOptions;
  readonly win: Partial<Window>;
}

const CONV_CASES: readonly ConvCase[] = [
  { label: 'plain, bias', x: [2, 3, 6, 5], w: [4, 3, 3, 3], bias: true, opts: {}, win: {} },
  { label: 'stride 2, padding 1', x: [2, 2, 7, 6], w: [3, 2, 3, 3], bias: false, opts: { stride: [2, 2], padding: [1, 1] }, win: { stride: [2, 2], before: [1, 1], after: [1, 1] } },
  {
    label: 'dilation 2, padding (2, 1), bias', x: [1, 3, 7, 8], w: [5, 3, 3, 3], bias: true,
    opts: { dilation: [2, 2], padding: [2, 1] }, win: { dilation: [2, 2], before: [2, 1], after: [2, 1] },
  },
  { label: "'same' with an even kernel (extra padding at the end)", x: [2, 2, 5, 6], w: [3, 2, 2, 4], bias: true, opts: { padding: 'same' }, win: { before: [0, 1], after: [1, 2] } },
  { label: "'same' with dilation 2 and a 3×2 kernel", x: [1, 2, 6, 5], w: [2, 2, 3, 2], bias: false, opts: { padding: 'same', dilation: [2, 2] }, win: { dilation: [2, 2], before: [2, 1], after: [2, 1] } },
  { label: 'kernel (4, 3) larger than the stride (3, 2)', x: [2, 2, 10, 9], w: [3, 2, 4, 3], bias: false, opts: { stride: [3, 2] }, win: { stride: [3, 2] } },
  { label: 'stride larger than the kernel (windows skip pixels)', x: [1, 2, 9, 9], w: [2, 2, 2, 2], bias: true, opts: { stride: [3, 3] }, win: { stride: [3, 3] } },
  { label: '1×1', x: [2, 5, 4, 3], w: [6, 5, 1, 1], bias: true, opts: {}, win: {} },
  { label: '1×1, stride 2, padding 1', x: [1, 3, 5, 4], w: [2, 3, 1, 1], bias: false, opts: { stride: [2, 2], padding: [1, 1] }, win: { stride: [2, 2], before: [1, 1], after: [1, 1] } },
  { label: 'batch 1, odd sizes, one output channel', x: [1, 3, 7, 5], w: [1, 3, 3, 2], bias: true, opts: {}, win: {} },
  { label: 'window as large as the padded image (one output pixel)', x: [2, 2, 3, 4], w: [3, 2, 5, 6], bias: false, opts: { padding: [1, 1] }, win: { before: [1, 1], after: [1, 1] } },
  { label: 'more filters and pixels than one GPU tile', x: [2, 4, 12, 11], w: [70, 4, 3, 3], bias: true, opts: { padding: [1, 1] }, win: { before: [1, 1], after: [1, 1] } },
  { label: 'unbatched (C, H, W)', x: [3, 5, 5], w: [2, 3, 3, 3], bias: true, opts: { padding: [1, 1] }, win: { before: [1, 1], after: [1, 1] } },
];

function windowOf(win: Partial<Window>): Window {
  return { stride: win.stride ?? [1, 1], before: win.before ?? [0, 0], after: win.after ?? [0, 0], dilation: win.dilation ?? [1, 1] };
}

/** The reference of a case, adding a batch dim of 1 around unbatched inputs. */
function caseRef(c: ConvCase, x: RefArray, w: RefArray, bias: RefArray | null): { y: RefArray; scale: Float64Array } {
  if (x.shape.length === 4) return convRef(x, w, bias, windowOf(c.win));
  const r = convRef(R.makeRef([1, ...x.shape], x.data), w, bias, windowOf(c.win));
  return { y: R.makeRef(r.y.shape.slice(1), r.y.data), scale: r.scale };
}

/** x as a channels-last buffer (N, H, W, C) viewed as (N, C, H, W): the layout of NHWC data. */
function channelsLast(x: Tensor): Tensor {
  return T.scope(() => x.permute([0, 2, 3, 1]).contiguous().permute([0, 3, 1, 2]));
}

const cycle = (i: number): Layout => LAYOUTS[i % LAYOUTS.length];

function convTests(ctx: SuiteContext): void {
  caseIt(ctx, 'conv2d (public op): stride, padding, dilation, same, 1×1, bias, odd sizes', async () => {
    for (const dtype of floatDtypes(ctx)) {
      const rng = rngFor(ctx, `fused-conv/${dtype}`);
      for (const c of CONV_CASES) {
        const inputs: Input[] = [
          { ref: randomInput(rng, c.x, dtype, 'contiguous'), dtype },
          { ref: randomInput(rng, c.w, dtype, 'contiguous'), dtype },
        ];
        if (c.bias) inputs.push({ ref: randomInput(rng, [c.w[0]], dtype, 'contiguous'), dtype });
        const { y, scale } = caseRef(c, inputs[0].ref, inputs[1].ref, c.bias ? inputs[2].ref : null);
        const run = (x: Tensor, w: Tensor, b?: Tensor) => T.conv2d(x, w, b, c.opts);
        await check(ctx, `conv2d ${c.label} (${dtype})`, inputs, run, [{ want: y, dtype, opts: { scale } }]);
      }
    }
  });

  caseIt(ctx, 'conv2d (public op) on non-contiguous inputs: every layout, channels last', async () => {
    for (const dtype of floatDtypes(ctx)) {
      const rng = rngFor(ctx, `fused-conv-layouts/${dtype}`);
      const cases = CONV_CASES.filter((c) => c.x.length === 4);
      for (let i = 0; i < cases.length; i++) {
        const c = cases[i];
        const lx = cycle(i);
        const lw = cycle(i + 3);
        const x: Input = { ref: randomInput(rng, c.x, dtype, lx), dtype, layout: lx };
        const w: Input = { ref: randomInput(rng, c.w, dtype, lw), dtype, layout: lw };
        const b: Input = { ref: randomInput(rng, [c.w[0]], dtype, 'flipped'), dtype, layout: 'flipped' };
        const { y, scale } = caseRef(c, x.ref, w.ref, b.ref);
        const label = `conv2d ${c.label}, ${describeInput(x)}, ${describeInput(w)}`;
        await check(ctx, label, [x, w, b], (xt, wt, bt) => T.conv2d(xt, wt, bt, c.opts), [{ want: y, dtype, opts: { scale } }]);
        // the same image stored channels last
        const cl = (xt: Tensor, wt: Tensor, bt: Tensor) => T.scope(() => T.conv2d(channelsLast(xt), wt, bt, c.opts));
        await check(ctx, `${label}, channels last`, [{ ...x, layout: 'contiguous' }, w, b], cl, [{ want: y, dtype, opts: { scale } }]);
      }
    }
  });

  caseIt(ctx, "conv2d primitive (apply1('conv2d')): symmetric padding, any strides", async () => {
    const cases: readonly { x: number[]; w: number[]; stride: Pair; padding: Pair; dilation: Pair }[] = [
      { x: [2, 3, 6, 5], w: [4, 3, 3, 3], stride: [1, 1], padding: [0, 0], dilation: [1, 1] },
      { x: [1, 2, 9, 8], w: [3, 2, 3, 2], stride: [2, 3], padding: [1, 2], dilation: [1, 1] },
      { x: [3, 2, 8, 7], w: [5, 2, 3, 3], stride: [1, 2], padding: [2, 2], dilation: [2, 3] },
      { x: [2, 4, 5, 5], w: [3, 4, 1, 1], stride: [2, 2], padding: [1, 0], dilation: [1, 1] },
      { x: [1, 1, 4, 4], w: [1, 1, 4, 4], stride: [1, 1], padding: [0, 0], dilation: [1, 1] },
      { x: [2, 3, 7, 6], w: [40, 3, 2, 3], stride: [1, 1], padding: [1, 1], dilation: [1, 1] },
    ];
    for (const dtype of floatDtypes(ctx)) {
      const rng = rngFor(ctx, `fused-conv-primitive/${dtype}`);
      for (let i = 0; i < cases.length; i++) {
        const c = cases[i];
        const win: Window = { stride: c.stride, before: c.padding, after: c.padding, dilation: c.dilation };
        for (const [lx, lw] of [['contiguous', 'contiguous'], [cycle(i + 1), cycle(i + 4)]] as const) {
          const x: Input = { ref: randomInput(rng, c.x, dtype, lx), dtype, layout: lx };
          const w: Input = { ref: randomInput(rng, c.w, dtype, lw), dtype, layout: lw };
          const { y, scale } = convRef(x.ref, w.ref, null, win);
          const params = { stride: c.stride, padding: c.padding, dilation: c.dilation };
          const label = `conv2d primitive ${describeInput(x)} * ${describeInput(w)}, stride (${c.stride}), padding (${c.padding}), dilation (${c.dilation})`;
          await check(ctx, label, [x, w], (xt, wt) => T.apply1('conv2d', [xt, wt], params), [{ want: y, dtype, opts: { scale } }]);
        }
      }
    }
  });

  caseIt(ctx, 'conv2d primitive: zero-size batch and zero channels', async () => {
    const dtype = floatDtypes(ctx)[0];
    const params = { stride: [1, 1], padding: [1, 1], dilation: [1, 1] };
    const rng = rngFor(ctx, 'fused-conv-empty');
    for (const [xs, ws] of [[[0, 2, 4, 4], [3, 2, 3, 3]], [[2, 0, 4, 3], [3, 0, 3, 3]]]) {
      const x: Input = { ref: randomInput(rng, xs, dtype, 'contiguous'), dtype };
      const w: Input = { ref: randomInput(rng, ws, dtype, 'contiguous'), dtype };
      const { y } = convRef(x.ref, w.ref, null, { stride: [1, 1], before: [1, 1], after: [1, 1], dilation: [1, 1] });
      await check(ctx, `conv2d primitive ${describeInput(x)} * ${describeInput(w)}`, [x, w], (xt, wt) => T.apply1('conv2d', [xt, wt], params), [{ want: y, dtype }]);
    }
  });

  caseIt(ctx, 'conv2d primitive: errors name the op and the shapes', () => {
    const be = ctx.backend;
    const dtype = floatDtypes(ctx)[0];
    const x = T.zeros([1, 3, 5, 5], { dtype, backend: be });
    const w = T.zeros([2, 4, 3, 3], { dtype, backend: be });
    const x3 = T.zeros([3, 5, 5], { dtype, backend: be });
    const w7 = T.zeros([2, 3, 7, 7], { dtype, backend: be });
    const params = { stride: [1, 1], padding: [0, 0], dilation: [1, 1] };
    try {
      expectOpError(be, 'channels', () => T.apply1('conv2d', [x, w], params), /^conv2d: x \(1, 3, 5, 5\) has 3 channels but weight \(2, 4, 3, 3\) expects 4/);
      expectOpError(be, 'rank', () => T.apply1('conv2d', [x3, w], params), /^conv2d: x must be \(N, C, H, W\), got \(3, 5, 5\)/);
      expectOpError(be, 'window', () => T.apply1('conv2d', [x, w7], params), /^conv2d: kernel 7 \(dilation 1\) does not fit input height=5 with padding 0/);
      if (ctx.supports('float32') && ctx.supports('float64')) {
        const w64 = T.zeros([2, 3, 3, 3], { dtype: 'float64', backend: be });
        const x32 = T.zeros([1, 3, 5, 5], { dtype: 'float32', backend: be });
        expectOpError(be, 'dtypes', () => T.apply1('conv2d', [x32, w64], params), /^conv2d: dtypes differ: x float32 and weight float64/);
      }
      if (ctx.supports('int32')) {
        const xi = T.zeros([1, 3, 5, 5], { dtype: 'int32', backend: be });
        const wi = T.zeros([2, 3, 3, 3], { dtype: 'int32', backend: be });
        expectOpError(be, 'int32', () => T.apply1('conv2d', [xi, wi], params), /^conv2d: x must be float32 or float64, got int32/);
      }
    } finally {
      for (const t of [x, w, x3, w7]) t.dispose();
    }
  });
}

// ---------------------------------------------------------------- adamStep

interface AdamHyper {
  readonly lr: number;
  readonly beta1: number;
  readonly beta2: number;
  readonly eps: number;
}

/** Adam state as float64 arrays. */
interface AdamState {
  param: Float64Array;
  m: Float64Array;
  v: Float64Array;
  vMax?: Float64Array;
}

/**
 * One Adam step at step number t, as written in the paper (Kingma & Ba, Algorithm 1), with
 * AMSGrad's running maximum when the state has one:
 * m ← β₁m + (1 − β₁)g, v ← β₂v + (1 − β₂)g², m̂ = m/(1 − β₁ᵗ), v̂ = max(vMax, v)/(1 − β₂ᵗ),
 * θ ← θ − lr·m̂/(√v̂ + ε). Returns the new state and the magnitude of each update.
 */
function adamRef(s: AdamState, g: Float64Array, h: AdamHyper, t: number): { next: AdamState; step: Float64Array } {
  const n = g.length;
  const next: AdamState = { param: new Float64Array(n), m: new Float64Array(n), v: new Float64Array(n) };
  if (s.vMax) next.vMax = new Float64Array(n);
  const step = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const m = h.beta1 * s.m[i] + (1 - h.beta1) * g[i];
    const v = h.beta2 * s.v[i] + (1 - h.beta2) * g[i] * g[i];
    let vUsed = v;
    if (s.vMax && next.vMax) {
      vUsed = Math.max(s.vMax[i], v);
      next.vMax[i] = vUsed;
    }
    const mHat = m / (1 - h.beta1 ** t);
    const vHat = vUsed / (1 - h.beta2 ** t);
    step[i] = (h.lr * mHat) / (Math.sqrt(vHat) + h.eps);
    next.param[i] = s.param[i] - step[i];
    next.m[i] = m;
    next.v[i] = v;
  }
  return { next, step };
}

const ADAM_HYPERS: readonly (AdamHyper & { label: string })[] = [
  { label: 'PyTorch defaults', lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8 },
  { label: 'lr 0.05, β (0.5, 0.9), ε 1e-3', lr: 0.05, beta1: 0.5, beta2: 0.9, eps: 1e-3 },
  { label: 'β₁ = 0 (RMSprop-like)', lr: 0.01, beta1: 0, beta2: 0.99, eps: 1e-6 },
];

/** Runs `steps` fused updates from the state tensors with one gradient per step; returns the final state. */
function runAdam(state: Tensor[], grads: Tensor[], h: AdamHyper, amsgrad: boolean, firstStep: number): Tensor[] {
  return T.scope(() => {
    let [param, m, v, vMax] = state;
    grads.forEach((g, k) => {
      const r = T.adamStep(param, g, m, v, { ...h, step: firstStep + k, vMax: amsgrad ? vMax : undefined });
      [param, m, v] = [r.param, r.m, r.v];
      if (amsgrad) vMax = r.vMax!;
    });
    return amsgrad ? [param, m, v, vMax] : [param, m, v];
  });
}

function adamTests(ctx: SuiteContext): void {
  for (const amsgrad of [false, true]) {
    caseIt(ctx, `adamStep${amsgrad ? ' with vMax (AMSGrad)' : ''}: several steps against Adam's textbook update, every layout`, async () => {
      for (const dtype of floatDtypes(ctx)) {
        for (const [hi, h] of ADAM_HYPERS.entries()) {
          const rng = rngFor(ctx, `fused-adam/${amsgrad}/${dtype}/${hi}`);
          for (const [si, shape] of ([[7], [3, 5], [2, 3, 4], [300]] as const).entries()) {
            const steps = 4;
            const firstStep = si === 1 ? 10 : 1; // a later step too: bias corrections near 1
            const layoutAt = (k: number): Layout => cycle(si + hi + k);
            const make = (k: number, domain?: readonly [number, number]): Input => {
              const layout = layoutAt(k);
              return { ref: randomInput(rng, shape, dtype, layout, domain), dtype, layout };
            };
            const param = make(0);
            const m = make(1, [-1, 1]);
            const v = make(2, [0.01, 2]);
            const vMax = make(3, [0.01, 3]);
            const grads = Array.from({ length: steps }, (_, k) => make(4 + k));
            let state: AdamState = { param: param.ref.data, m: m.ref.data, v: v.ref.data, vMax: amsgrad ? vMax.ref.data : undefined };
            let scale = new Float64Array(param.ref.data.length).fill(1);
            for (let k = 0; k < steps; k++) {
              const r = adamRef(state, grads[k].ref.data, h, firstStep + k);
              state = r.next;
              // the parameter's error grows with each update's size (float32 rounds every one)
              scale = scale.map((a, i) => a + Math.abs(r.step[i]) + Math.abs(state.param[i]));
            }
            const ref = (d: Float64Array) => R.makeRef(shape, d);
            const expected = [
              { want: ref(state.param), dtype, opts: { scale } },
              { want: ref(state.m), dtype },
              { want: ref(state.v), dtype },
            ];
            if (amsgrad) expected.push({ want: ref(state.vMax!), dtype });
            const stateInputs = amsgrad ? [param, m, v, vMax] : [param, m, v];
            const label = `adamStep ${h.label}, ${describeInput(param)}, steps ${firstStep}..${firstStep + steps - 1}`;
            await check(ctx, label, [...stateInputs, ...grads], (...ts: Tensor[]) => {
              const k = stateInputs.length;
              return runAdam(ts.slice(0, k), ts.slice(k), h, amsgrad, firstStep);
            }, expected);
          }
        }
      }
    });
  }

  caseIt(ctx, 'adamStep leaves its inputs unchanged and returns fresh tensors', async () => {
    const dtype = floatDtypes(ctx)[0];
    const be = ctx.backend;
    const rng = rngFor(ctx, 'fused-adam-pure');
    const refs = [randomInput(rng, [6], dtype, 'contiguous'), randomInput(rng, [6], dtype, 'contiguous'), randomInput(rng, [6], dtype, 'contiguous', [-1, 1])];
    const vRef = randomInput(rng, [6], dtype, 'contiguous', [0.1, 1]);
    const [p, g, m] = refs.map((r) => T.tensor(Array.from(r.data), { dtype, backend: be }));
    const v = T.tensor(Array.from(vRef.data), { dtype, backend: be });
    const out = T.adamStep(p, g, m, v, { lr: 0.1, beta1: 0.9, beta2: 0.999, eps: 1e-8, step: 1 });
    expect(out.vMax, 'no vMax without AMSGrad').toBeUndefined();
    for (const t of [out.param, out.m, out.v]) expect([p, g, m, v].includes(t), 'a fresh tensor').toBe(false);
    const after = await Promise.all([p, g, m, v].map((t) => t.data()));
    [...refs, vRef].forEach((r, i) => expect(Array.from(after[i]), `input ${i} unchanged`).toEqual(Array.from(r.data)));
  });

  caseIt(ctx, 'adamStep: errors name the op, the argument and the shapes', () => {
    const be = ctx.backend;
    const dtype = floatDtypes(ctx)[0];
    const z = (shape: number[], d: DType = dtype) => T.zeros(shape, { dtype: d, backend: be });
    const [p, g, m, v, g32, v4] = [z([2, 3]), z([2, 3]), z([2, 3]), z([2, 3]), z([3, 2]), z([4])];
    const h = { lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8, step: 1 };
    const made = [p, g, m, v, g32, v4];
    try {
      expectOpError(be, 'grad shape', () => T.adamStep(p, g32, m, v, h), /^adamStep: grad \(3, 2\) must have the shape of param \(2, 3\)/);
      expectOpError(be, 'm shape', () => T.adamStep(p, g, g32, v, h), /^adamStep: m \(3, 2\) must have the shape of param \(2, 3\)/);
      expectOpError(be, 'v shape', () => T.adamStep(p, g, m, v4, h), /^adamStep: v \(4,\) must have the shape of param \(2, 3\)/);
      expectOpError(be, 'vMax shape', () => T.adamStep(p, g, m, v, { ...h, vMax: v4 }), /^adamStep: vMax \(4,\) must have the shape of param \(2, 3\)/);
      expectOpError(be, 'beta1', () => T.adamStep(p, g, m, v, { ...h, beta1: 1 }), /^adamStep: beta1 must be in \[0, 1\), got 1/);
      expectOpError(be, 'beta2', () => T.adamStep(p, g, m, v, { ...h, beta2: -0.1 }), /^adamStep: beta2 must be in \[0, 1\), got -0.1/);
      expectOpError(be, 'eps', () => T.adamStep(p, g, m, v, { ...h, eps: -1 }), /^adamStep: eps must be >= 0, got -1/);
      expectOpError(be, 'lr', () => T.adamStep(p, g, m, v, { ...h, lr: NaN }), /^adamStep: lr must be a finite number >= 0, got NaN/);
      expectOpError(be, 'step', () => T.adamStep(p, g, m, v, { ...h, step: 0 }), /^adamStep: step must be an integer >= 1, got 0/);
      expectOpError(be, 'step 1.5', () => T.adamStep(p, g, m, v, { ...h, step: 1.5 }), /^adamStep: step must be an integer >= 1, got 1.5/);
      expectOpError(be, 'not a tensor', () => T.adamStep(p, [1, 2] as unknown as Tensor, m, v, h), /^adamStep: grad must be a Tensor/);
      if (ctx.supports('int32')) {
        const [pi, gi, mi, vi] = [z([2], 'int32'), z([2], 'int32'), z([2], 'int32'), z([2], 'int32')];
        made.push(pi, gi, mi, vi);
        expectOpError(be, 'int32', () => T.adamStep(pi, gi, mi, vi, h), /^adamStep: param must be float32 or float64, got int32/);
      }
      if (ctx.supports('float32') && ctx.supports('float64')) {
        const g64 = z([2, 3], dtype === 'float32' ? 'float64' : 'float32');
        made.push(g64);
        expectOpError(be, 'dtype', () => T.adamStep(p, g64, m, v, h), new RegExp(`^adamStep: grad is ${g64.dtype} but param is ${dtype}`));
      }
    } finally {
      for (const t of made) t.dispose();
    }
  });
}

export function fusedGroup(ctx: SuiteContext): void {
  describe('conv2d', () => convTests(ctx));
  describe('adamStep', () => adamTests(ctx));
}

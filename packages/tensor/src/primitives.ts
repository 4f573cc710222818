/**
 * The primitive op table: every op a backend must implement, each with its shape/dtype rule.
 *
 * Everything else in @ml/tensor (softmax, var, einsum, conv2d...) is written in these. A rule
 * receives inputs that the front end has already broadcast and cast where the table says so,
 * checks what is left and returns the output metadata. Gradient rules live in @ml/autograd, one
 * per primitive; kernels live in each backend, one per primitive.
 */
import type { DType } from './dtype.js';
import { isFloat } from './dtype.js';
import { fail, fmt } from './errors.js';
import { shapesEqual } from './shape.js';

export interface Meta {
  readonly shape: readonly number[];
  readonly dtype: DType;
}

/** A primitive's shape/dtype rule: validates inputs and params, returns the outputs' metadata. */
export type Rule = (op: string, inputs: readonly Meta[], params: any) => Meta[];

/** Elementwise ops of one input whose output has the input's dtype. */
export const UNARY_SAME = ['neg', 'abs', 'sign', 'floor', 'ceil', 'round', 'copy'] as const;
/** Elementwise math of one float input (the front end casts integers to float32 first). */
export const UNARY_FLOAT = [
  'exp', 'log', 'log1p', 'expm1', 'sqrt', 'rsqrt', 'sin', 'cos', 'tanh', 'sigmoid', 'erf', 'erfinv',
] as const;
/** Elementwise ops of two same-shape, same-dtype inputs with that dtype as output. */
export const BINARY_ARITH = ['add', 'sub', 'mul', 'div', 'pow', 'maximum', 'minimum', 'mod'] as const;
/** Comparisons of two same-shape, same-dtype inputs; output bool. */
export const BINARY_COMPARE = ['eq', 'ne', 'lt', 'le', 'gt', 'ge'] as const;
/** Logical ops of two bool inputs; output bool. */
export const BINARY_LOGICAL = ['logicalAnd', 'logicalOr', 'logicalXor'] as const;
/** Reductions over `params.axes`; output drops those axes. */
export const REDUCE = ['sum', 'prod', 'max', 'min'] as const;

export type UnaryOp = (typeof UNARY_SAME)[number] | (typeof UNARY_FLOAT)[number];
export type BinaryOp =
  | (typeof BINARY_ARITH)[number]
  | (typeof BINARY_COMPARE)[number]
  | (typeof BINARY_LOGICAL)[number];
export type ReduceOp = (typeof REDUCE)[number];

const same: Rule = (_op, [x]) => [{ shape: x.shape, dtype: x.dtype }];

const floatUnary: Rule = (op, [x]) => {
  if (!isFloat(x.dtype)) fail(op, `expects a float tensor, got ${x.dtype}`);
  return [{ shape: x.shape, dtype: x.dtype }];
};

function sameShapes(op: string, inputs: readonly Meta[]): void {
  for (let i = 1; i < inputs.length; i++) {
    if (!shapesEqual(inputs[0].shape, inputs[i].shape)) {
      fail(op, `inputs must have equal shapes after broadcasting, got ${fmt(inputs[0].shape)} and ${fmt(inputs[i].shape)}`);
    }
    if (inputs[0].dtype !== inputs[i].dtype) {
      fail(op, `inputs must have equal dtypes after promotion, got ${inputs[0].dtype} and ${inputs[i].dtype}`);
    }
  }
}

const binary: Rule = (op, inputs) => {
  sameShapes(op, inputs);
  return [{ shape: inputs[0].shape, dtype: inputs[0].dtype }];
};

const compare: Rule = (op, inputs) => {
  sameShapes(op, inputs);
  return [{ shape: inputs[0].shape, dtype: 'bool' }];
};

const reduce: Rule = (_op, [x], { axes }: { axes: number[] }) => [
  { shape: x.shape.filter((_, i) => !axes.includes(i)), dtype: x.dtype },
];

function checkFloatMatrix(op: string, x: Meta, arg: string, square: boolean): void {
  if (!isFloat(x.dtype)) fail(op, `${arg} must be float32 or float64, got ${x.dtype}`);
  if (x.shape.length < 2) fail(op, `${arg} must have at least 2 dims, got ${fmt(x.shape)}`);
  const [m, n] = x.shape.slice(-2);
  if (square && m !== n) fail(op, `${arg} must be square in its last two dims, got ${fmt(x.shape)}`);
}

function convOut(op: string, size: number, k: number, s: number, p: number, d: number, dim: string): number {
  const out = Math.floor((size + 2 * p - d * (k - 1) - 1) / s) + 1;
  if (out <= 0) {
    fail(op, `kernel ${k} (dilation ${d}) does not fit input ${dim}=${size} with padding ${p}`);
  }
  return out;
}

/** Output height and width of a sliding window (conv, pooling, im2col). */
export function windowOutput(op: string, h: number, w: number, p: Im2colParams): [number, number] {
  return [
    convOut(op, h, p.kernel[0], p.stride[0], p.padding[0], p.dilation[0], 'height'),
    convOut(op, w, p.kernel[1], p.stride[1], p.padding[1], p.dilation[1], 'width'),
  ];
}

export interface Im2colParams {
  kernel: [number, number];
  stride: [number, number];
  padding: [number, number];
  dilation: [number, number];
  /**
   * Value read outside the input (0 for conv, −∞ for max pooling). It is stored like any value of
   * the output dtype, so integer dtypes need a finite value (−2³¹ for int32 max pooling).
   */
  padValue: number;
}

/** Params of the `conv2d` primitive (groups of 1; asymmetric padding is an explicit `pad` first). */
export interface Conv2dParams {
  stride: [number, number];
  /** Zeros added on both sides of each spatial dim. */
  padding: [number, number];
  dilation: [number, number];
}

/**
 * Params of the `adamStep` primitive: one fused Adam update (see `adamStep` in ops/optim.ts).
 * m' = m + (1 − β₁)(g − m), v' = β₂v + (1 − β₂)g², v̂ = max(vMax, v') or v',
 * θ' = θ − stepSize · m' / (√v̂ · vScale + ε).
 */
export interface AdamStepParams {
  beta1: number;
  beta2: number;
  eps: number;
  /** γ / (1 − β₁ᵗ). */
  stepSize: number;
  /** 1 / √(1 − β₂ᵗ). */
  vScale: number;
}

const rules: Record<string, Rule> = {
  cast: (_op, [x], { dtype }: { dtype: DType }) => [{ shape: x.shape, dtype }],
  logicalNot: (op, [x]) => {
    if (x.dtype !== 'bool') fail(op, `expects bool, got ${x.dtype}`);
    return [{ shape: x.shape, dtype: 'bool' }];
  },
  where: (op, [c, a, b]) => {
    if (c.dtype !== 'bool') fail(op, `condition must be bool, got ${c.dtype}`);
    if (!shapesEqual(c.shape, a.shape)) fail(op, `condition shape ${fmt(c.shape)} differs from ${fmt(a.shape)}`);
    sameShapes(op, [a, b]);
    return [{ shape: a.shape, dtype: a.dtype }];
  },
  argmax: (_op, [x], { axis }: { axis: number }) => [
    { shape: x.shape.filter((_, i) => i !== axis), dtype: 'int32' },
  ],
  cumsum: same,
  sort: (_op, [x]) => [
    { shape: x.shape, dtype: x.dtype },
    { shape: x.shape, dtype: 'int32' },
  ],
  matmul: (op, [a, b]) => {
    const m = a.shape[a.shape.length - 2];
    const k = a.shape[a.shape.length - 1];
    const k2 = b.shape[b.shape.length - 2];
    const n = b.shape[b.shape.length - 1];
    if (a.shape.length !== b.shape.length || a.shape.length < 2 || k !== k2 ||
        !shapesEqual(a.shape.slice(0, -2), b.shape.slice(0, -2))) {
      fail(op, `cannot multiply ${fmt(a.shape)} by ${fmt(b.shape)}`);
    }
    if (a.dtype !== b.dtype) fail(op, `dtypes differ: ${a.dtype} and ${b.dtype}`);
    return [{ shape: [...a.shape.slice(0, -2), m, n], dtype: a.dtype }];
  },
  concat: (op, inputs, { axis }: { axis: number }) => {
    const first = inputs[0];
    let total = 0;
    for (const [i, x] of inputs.entries()) {
      const ok = x.shape.length === first.shape.length &&
        x.shape.every((d, j) => j === axis || d === first.shape[j]);
      if (!ok) fail(op, `tensor ${i} has shape ${fmt(x.shape)}, incompatible with ${fmt(first.shape)} along axis ${axis}`);
      if (x.dtype !== first.dtype) fail(op, `dtypes differ: ${first.dtype} and ${x.dtype}`);
      total += x.shape[axis];
    }
    const shape = [...first.shape];
    shape[axis] = total;
    return [{ shape, dtype: first.dtype }];
  },
  pad: (_op, [x], { pads }: { pads: [number, number][] }) => [
    { shape: x.shape.map((d, i) => d + pads[i][0] + pads[i][1]), dtype: x.dtype },
  ],
  gather: (op, [x, index], { axis }: { axis: number }) => {
    if (index.dtype !== 'int32') fail(op, `index must be int32, got ${index.dtype}`);
    if (index.shape.length !== x.shape.length) {
      fail(op, `index rank ${index.shape.length} must equal input rank ${x.shape.length} (input ${fmt(x.shape)}, index ${fmt(index.shape)})`);
    }
    index.shape.forEach((d, i) => {
      if (i !== axis && d > x.shape[i]) fail(op, `index shape ${fmt(index.shape)} exceeds input ${fmt(x.shape)} in dim ${i}`);
    });
    return [{ shape: index.shape, dtype: x.dtype }];
  },
  scatterAdd: (op, [x, index, src], { axis }: { axis: number }) => {
    if (index.dtype !== 'int32') fail(op, `index must be int32, got ${index.dtype}`);
    if (!shapesEqual(index.shape, src.shape)) fail(op, `index ${fmt(index.shape)} and src ${fmt(src.shape)} must have equal shapes`);
    if (index.shape.length !== x.shape.length) fail(op, `index rank ${index.shape.length} must equal input rank ${x.shape.length}`);
    index.shape.forEach((d, i) => {
      if (i !== axis && d > x.shape[i]) fail(op, `index shape ${fmt(index.shape)} exceeds input ${fmt(x.shape)} in dim ${i}`);
    });
    if (x.dtype !== src.dtype) fail(op, `src dtype ${src.dtype} differs from input dtype ${x.dtype}`);
    return [{ shape: x.shape, dtype: x.dtype }];
  },
  im2col: (op, [x], p: Im2colParams) => {
    if (x.shape.length !== 4) fail(op, `expects (N, C, H, W), got ${fmt(x.shape)}`);
    const [n, c, h, w] = x.shape;
    const [oh, ow] = windowOutput(op, h, w, p);
    return [{ shape: [n, c * p.kernel[0] * p.kernel[1], oh * ow], dtype: x.dtype }];
  },
  col2im: (op, [cols], p: Im2colParams & { size: [number, number] }) => {
    if (cols.shape.length !== 3) fail(op, `expects columns (N, C·kh·kw, L), got ${fmt(cols.shape)}`);
    const [n, ckk, l] = cols.shape;
    const kk = p.kernel[0] * p.kernel[1];
    const [oh, ow] = windowOutput(op, p.size[0], p.size[1], p);
    if (ckk % kk !== 0 || l !== oh * ow) {
      fail(op, `columns ${fmt(cols.shape)} do not match kernel ${fmt(p.kernel)} and size ${fmt(p.size)}`);
    }
    return [{ shape: [n, ckk / kk, p.size[0], p.size[1]], dtype: cols.dtype }];
  },
  conv2d: (op, [x, w], p: Conv2dParams) => {
    if (x.shape.length !== 4) fail(op, `x must be (N, C, H, W), got ${fmt(x.shape)}`);
    if (w.shape.length !== 4) fail(op, `weight must be (C_out, C_in, kh, kw), got ${fmt(w.shape)}`);
    if (!isFloat(x.dtype)) fail(op, `x must be float32 or float64, got ${x.dtype}`);
    if (x.dtype !== w.dtype) fail(op, `dtypes differ: x ${x.dtype} and weight ${w.dtype}`);
    const [n, c, h, wd] = x.shape;
    const [o, cw, kh, kw] = w.shape;
    if (cw !== c) fail(op, `x ${fmt(x.shape)} has ${c} channels but weight ${fmt(w.shape)} expects ${cw}`);
    const pair = (name: string, v: unknown, min: number) => {
      if (!Array.isArray(v) || v.length !== 2 || !v.every((e) => Number.isInteger(e) && e >= min)) {
        fail(op, `${name} must be a pair of integers >= ${min}, got ${JSON.stringify(v)}`);
      }
    };
    pair('stride', p.stride, 1);
    pair('padding', p.padding, 0);
    pair('dilation', p.dilation, 1);
    const [oh, ow] = windowOutput(op, h, wd, { ...p, kernel: [kh, kw], padValue: 0 });
    return [{ shape: [n, o, oh, ow], dtype: x.dtype }];
  },
  softmax: (op, [x], { axis }: { axis: number }) => {
    if (!isFloat(x.dtype)) fail(op, `expects a float tensor, got ${x.dtype}`);
    if (!(Number.isInteger(axis) && axis >= 0 && axis < x.shape.length)) fail(op, `axis ${axis} is out of range for shape ${fmt(x.shape)}`);
    return [{ shape: x.shape, dtype: x.dtype }];
  },
  adamStep: (op, inputs, p: AdamStepParams) => {
    if (inputs.length !== 4 && inputs.length !== 5) fail(op, `expects (param, grad, m, v) or (param, grad, m, v, vMax), got ${inputs.length} inputs`);
    const [x] = inputs;
    if (!isFloat(x.dtype)) fail(op, `param must be float32 or float64, got ${x.dtype}`);
    const names = ['param', 'grad', 'm', 'v', 'vMax'];
    inputs.forEach((t, i) => {
      if (!shapesEqual(t.shape, x.shape)) fail(op, `${names[i]} ${fmt(t.shape)} must have the shape of param ${fmt(x.shape)}`);
      if (t.dtype !== x.dtype) fail(op, `${names[i]} is ${t.dtype} but param is ${x.dtype}`);
    });
    for (const k of ['beta1', 'beta2', 'eps', 'stepSize', 'vScale'] as const) {
      if (typeof p[k] !== 'number' || !Number.isFinite(p[k])) fail(op, `${k} must be a finite number, got ${p[k]}`);
    }
    // outputs: param', m', v' (and vMax' with AMSGrad): one fewer than the inputs (no grad)
    return inputs.slice(1).map(() => ({ shape: x.shape, dtype: x.dtype }));
  },
  randomUniform: (op, _inputs, { shape, dtype }: { shape: number[]; dtype: DType }) => {
    if (!isFloat(dtype)) fail(op, `dtype must be float32 or float64, got ${dtype}`);
    return [{ shape, dtype }];
  },
  randomBits: (_op, _inputs, { shape }: { shape: number[] }) => [{ shape, dtype: 'int32' }],
  fill: (_op, _inputs, { shape, dtype }: { shape: number[]; dtype: DType }) => [{ shape, dtype }],
  cholesky: (op, [a]) => {
    checkFloatMatrix(op, a, 'a', true);
    return [{ shape: a.shape, dtype: a.dtype }];
  },
  triangularSolve: (op, [a, b]) => {
    checkFloatMatrix(op, a, 'a', true);
    checkFloatMatrix(op, b, 'b', false);
    linearSystemShapes(op, a, b);
    return [{ shape: b.shape, dtype: a.dtype }];
  },
  solve: (op, [a, b]) => {
    checkFloatMatrix(op, a, 'a', true);
    checkFloatMatrix(op, b, 'b', false);
    linearSystemShapes(op, a, b);
    return [{ shape: b.shape, dtype: a.dtype }];
  },
  qr: (op, [a]) => {
    checkFloatMatrix(op, a, 'a', false);
    const batch = a.shape.slice(0, -2);
    const [m, n] = a.shape.slice(-2);
    const k = Math.min(m, n);
    return [
      { shape: [...batch, m, k], dtype: a.dtype },
      { shape: [...batch, k, n], dtype: a.dtype },
    ];
  },
  eigh: (op, [a]) => {
    checkFloatMatrix(op, a, 'a', true);
    return [
      { shape: a.shape.slice(0, -1), dtype: a.dtype },
      { shape: a.shape, dtype: a.dtype },
    ];
  },
  svd: (op, [a]) => {
    checkFloatMatrix(op, a, 'a', false);
    const batch = a.shape.slice(0, -2);
    const [m, n] = a.shape.slice(-2);
    const k = Math.min(m, n);
    return [
      { shape: [...batch, m, k], dtype: a.dtype },
      { shape: [...batch, k], dtype: a.dtype },
      { shape: [...batch, k, n], dtype: a.dtype },
    ];
  },
};

function linearSystemShapes(op: string, a: Meta, b: Meta): void {
  const n = a.shape[a.shape.length - 1];
  if (b.shape[b.shape.length - 2] !== n || !shapesEqual(a.shape.slice(0, -2), b.shape.slice(0, -2))) {
    fail(op, `cannot solve a ${fmt(a.shape)} system for right-hand side ${fmt(b.shape)}`);
  }
  if (a.dtype !== b.dtype) fail(op, `dtypes differ: ${a.dtype} and ${b.dtype}`);
}

rules.argmin = rules.argmax;
rules.logSoftmax = rules.softmax;
for (const op of UNARY_SAME) rules[op] = same;
for (const op of UNARY_FLOAT) rules[op] = floatUnary;
for (const op of BINARY_ARITH) rules[op] = binary;
for (const op of BINARY_COMPARE) rules[op] = compare;
for (const op of BINARY_LOGICAL) rules[op] = compare;
for (const op of REDUCE) rules[op] = reduce;

/** Every primitive's shape/dtype rule, by name. */
export const PRIMITIVES: Readonly<Record<string, Rule>> = rules;

/** Names of all primitives, for backends and the conformance suite. */
export const PRIMITIVE_NAMES: readonly string[] = Object.keys(rules).sort();

/**
 * Elementwise ops. Binary ops follow NumPy broadcasting and the promotion rules in `dtype.ts`;
 * JS numbers are weak scalars (`x.mul(2)` keeps x's dtype).
 */
import type { Backend } from '../backend.js';
import type { DType } from '../dtype.js';
import { arithmeticType, floatType, isDType, isFloat, promoteTypes, promoteWithScalar } from '../dtype.js';
import { apply1, assertAlive, getBackend } from '../engine.js';
import { fail } from '../errors.js';
import { broadcastShapes, shapesEqual } from '../shape.js';
import { Tensor } from '../tensor.js';
import { makeIdentityView, expandTo } from './shape.js';

/** A tensor, or a JS number/boolean treated as a weak scalar. */
export type TensorOrScalar = Tensor | number | boolean;

/** Casts `x` to `dtype`; returns a view (no copy) when the dtype already matches. */
export function cast(x: Tensor, dtype: DType): Tensor {
  if (!isDType(dtype)) fail('cast', `unknown dtype ${String(dtype)} (expected float32, float64, int32, uint8 or bool)`);
  assertAlive('cast', x);
  if (x.dtype === dtype) return makeIdentityView('cast', x);
  return apply1('cast', [x], { dtype });
}

/** A copy of `x` in its own contiguous buffer. */
export function clone(x: Tensor): Tensor {
  assertAlive('clone', x);
  return apply1('copy', [x]);
}

/** @internal a 0-d tensor holding `value` on `backend`. */
export function scalarTensor(value: number | boolean, dtype: DType, backend: Backend): Tensor {
  return apply1('fill', [], { shape: [], value: Number(value), dtype }, backend);
}

/** Runs `op` after casting to `dtype` if needed, disposing the temporary cast. */
function withDtype(op: string, x: Tensor, dtype: DType, params: object = {}): Tensor {
  assertAlive(op, x);
  if (x.dtype === dtype) return apply1(op, [x], params as Record<string, unknown>);
  const c = apply1('cast', [x], { dtype });
  try {
    return apply1(op, [c], params as Record<string, unknown>);
  } finally {
    c.dispose();
  }
}

const floatUnary = (op: string) => (x: Tensor): Tensor => withDtype(op, x, floatType(x.dtype));

function sameUnary(op: string, x: Tensor): Tensor {
  if (x.dtype === 'bool') fail(op, 'expects a numeric tensor, got bool');
  return apply1(op, [x]);
}

/** −x. */
export const neg = (x: Tensor): Tensor => sameUnary('neg', x);
/** |x|. */
export const abs = (x: Tensor): Tensor => sameUnary('abs', x);
/** −1, 0 or 1 by the sign of x (NaN stays NaN). */
export const sign = (x: Tensor): Tensor => sameUnary('sign', x);
/** Round down; integers pass through. */
export const floor = (x: Tensor): Tensor => (isFloat(x.dtype) ? apply1('floor', [x]) : clone(x));
/** Round up; integers pass through. */
export const ceil = (x: Tensor): Tensor => (isFloat(x.dtype) ? apply1('ceil', [x]) : clone(x));
/** Round half to even (like NumPy and PyTorch: round(2.5) = 2); integers pass through. */
export const round = (x: Tensor): Tensor => (isFloat(x.dtype) ? apply1('round', [x]) : clone(x));
/** eˣ. Integer inputs give float32 (as every float function below). */
export const exp = floatUnary('exp');
/** Natural log; log(0) = −∞, log(x<0) = NaN. */
export const log = floatUnary('log');
/** log(1 + x), accurate for small x. */
export const log1p = floatUnary('log1p');
/** eˣ − 1, accurate for small x. */
export const expm1 = floatUnary('expm1');
/** √x. */
export const sqrt = floatUnary('sqrt');
/** 1/√x. */
export const rsqrt = floatUnary('rsqrt');
/** sin x. */
export const sin = floatUnary('sin');
/** cos x. */
export const cos = floatUnary('cos');
/** tanh x. */
export const tanh = floatUnary('tanh');
/** σ(x) = 1 / (1 + e⁻ˣ), computed without overflow for large |x|. */
export const sigmoid = floatUnary('sigmoid');
/** The error function erf(x) = 2/√π ∫₀ˣ e^(−t²) dt. */
export const erf = floatUnary('erf');
/** The inverse of erf on (−1, 1); ±1 give ±∞. */
export const erfinv = floatUnary('erfinv');

/** Logical not of a bool tensor (other dtypes: x == 0). */
export function logicalNot(x: Tensor): Tensor {
  return withDtype('logicalNot', x, 'bool');
}

function resultType(a: TensorOrScalar, b: TensorOrScalar): DType {
  if (a instanceof Tensor && b instanceof Tensor) return promoteTypes(a.dtype, b.dtype);
  if (a instanceof Tensor) return promoteWithScalar(a.dtype, b as number | boolean);
  if (b instanceof Tensor) return promoteWithScalar(b.dtype, a as number | boolean);
  if (typeof a === 'boolean' && typeof b === 'boolean') return 'bool';
  return 'float32';
}

function checkOperand(op: string, v: TensorOrScalar, name: string): void {
  if (v instanceof Tensor || typeof v === 'number' || typeof v === 'boolean') return;
  fail(op, `${name} must be a Tensor, number or boolean, got ${v === null ? 'null' : typeof v}`);
}

/** @internal Converts, casts to `dtype` and broadcasts two operands; temps must be disposed. */
export function prepareOperands(op: string, operands: TensorOrScalar[], dtype: DType, fallback?: Backend): { inputs: Tensor[]; temps: Tensor[] } {
  assertAlive(op, ...operands.filter((v): v is Tensor => v instanceof Tensor));
  const backend = (operands.find((v) => v instanceof Tensor) as Tensor | undefined)?.backend ?? fallback ?? getBackend();
  // shapes first: a bad broadcast fails before any cast or scalar is created
  const shapeOf = (v: TensorOrScalar): readonly number[] => (v instanceof Tensor ? v.shape : []);
  let shape = shapeOf(operands[0]) as number[];
  for (const v of operands.slice(1)) shape = broadcastShapes(op, shape, shapeOf(v));
  const temps: Tensor[] = [];
  let inputs = operands.map((v) => {
    if (!(v instanceof Tensor)) {
      const s = scalarTensor(v, dtype, backend);
      temps.push(s);
      return s;
    }
    if (v.dtype === dtype) return v;
    const c = apply1('cast', [v], { dtype });
    temps.push(c);
    return c;
  });
  inputs = inputs.map((t) => {
    if (shapesEqual(t.shape, shape)) return t;
    const e = expandTo(op, t, shape);
    temps.push(e);
    return e;
  });
  return { inputs, temps };
}

function binary(op: string, a: TensorOrScalar, b: TensorOrScalar, computeIn: (d: DType) => DType): Tensor {
  checkOperand(op, a, 'a');
  checkOperand(op, b, 'b');
  const { inputs, temps } = prepareOperands(op, [a, b], computeIn(resultType(a, b)));
  try {
    return apply1(op, inputs);
  } finally {
    for (const t of temps) t.dispose();
  }
}

const arith = (op: string) => (a: TensorOrScalar, b: TensorOrScalar): Tensor => binary(op, a, b, arithmeticType);
const compare = (op: string) => (a: TensorOrScalar, b: TensorOrScalar): Tensor => binary(op, a, b, (d) => d);
const logical = (op: string) => (a: TensorOrScalar, b: TensorOrScalar): Tensor => binary(op, a, b, () => 'bool');

/** a + b (broadcast). */
export const add = arith('add');
/** a − b (broadcast). */
export const sub = arith('sub');
/** a · b elementwise (broadcast). */
export const mul = arith('mul');
/** a / b, true division: integer inputs give float32. */
export const div = (a: TensorOrScalar, b: TensorOrScalar): Tensor => binary('div', a, b, floatType);
/** aᵇ. For integer dtypes a negative exponent is an error. */
export const pow = arith('pow');
/** Elementwise max (NaN propagates). */
export const maximum = arith('maximum');
/** Elementwise min (NaN propagates). */
export const minimum = arith('minimum');
/** a mod b with the sign of b (Python's %, NumPy's mod, PyTorch's remainder). */
export const mod = arith('mod');
/** a == b → bool. */
export const eq = compare('eq');
/** a != b → bool. */
export const ne = compare('ne');
/** a < b → bool. */
export const lt = compare('lt');
/** a ≤ b → bool. */
export const le = compare('le');
/** a > b → bool. */
export const gt = compare('gt');
/** a ≥ b → bool. */
export const ge = compare('ge');
/** a AND b (non-zero is true) → bool. */
export const logicalAnd = logical('logicalAnd');
/** a OR b → bool. */
export const logicalOr = logical('logicalOr');
/** a XOR b → bool. */
export const logicalXor = logical('logicalXor');

/**
 * Picks `a` where `condition` is true and `b` elsewhere; all three broadcast together.
 * @example `where(x.gt(0), x, 0)` is relu
 */
export function where(condition: Tensor, a: TensorOrScalar, b: TensorOrScalar): Tensor {
  const op = 'where';
  if (!(condition instanceof Tensor)) fail(op, 'condition must be a bool Tensor');
  if (condition.dtype !== 'bool') fail(op, `condition must be bool, got ${condition.dtype}`);
  checkOperand(op, a, 'a');
  checkOperand(op, b, 'b');
  const dtype = resultType(a, b);
  assertAlive(op, condition);
  // shapes first: a bad broadcast fails before any cast or scalar is created
  const shape = broadcastShapes(op, broadcastShapes(op, condition.shape, a instanceof Tensor ? a.shape : []), b instanceof Tensor ? b.shape : []);
  // cast a and b to their common dtype (scalars on the condition's backend), then broadcast all three together
  const values = prepareOperands(op, [a, b], dtype, condition.backend);
  const temps = [...values.temps];
  try {
    const expand = (t: Tensor): Tensor => {
      if (shapesEqual(t.shape, shape)) return t;
      const e = expandTo(op, t, shape);
      temps.push(e);
      return e;
    };
    return apply1(op, [expand(condition), expand(values.inputs[0]), expand(values.inputs[1])]);
  } finally {
    for (const t of temps) t.dispose();
  }
}

/** x², as x·x. */
export const square = (x: Tensor): Tensor => mul(x, x);
/** 1/x. */
export const reciprocal = (x: Tensor): Tensor => div(1, x);

/** max(x, 0), as `where(x > 0, x, 0)`: the gradient at 0 is 0 (PyTorch's choice). */
export function relu(x: Tensor): Tensor {
  assertAlive('relu', x);
  const mask = gt(x, 0);
  try {
    return where(mask, x, 0);
  } finally {
    mask.dispose();
  }
}

/** x for x > 0, slope·x otherwise. */
export function leakyRelu(x: Tensor, slope = 0.01): Tensor {
  assertAlive('leakyRelu', x);
  const mask = gt(x, 0);
  const scaled = mul(x, slope);
  try {
    return where(mask, x, scaled);
  } finally {
    mask.dispose();
    scaled.dispose();
  }
}

/**
 * Gaussian error linear unit. `'none'`: x·Φ(x) = ½x(1 + erf(x/√2));
 * `'tanh'`: ½x(1 + tanh(√(2/π)(x + 0.044715x³))), GPT-2's approximation.
 */
export function gelu(x: Tensor, approximate: 'none' | 'tanh' = 'none'): Tensor {
  assertAlive('gelu', x);
  const t: Tensor[] = [];
  const k = (v: Tensor): Tensor => (t.push(v), v);
  try {
    let inner: Tensor;
    if (approximate === 'tanh') {
      const cube = k(mul(k(mul(x, x)), x));
      inner = k(tanh(k(mul(k(add(x, k(mul(cube, 0.044715)))), Math.sqrt(2 / Math.PI)))));
    } else if (approximate === 'none') {
      inner = k(erf(k(mul(x, Math.SQRT1_2))));
    } else {
      fail('gelu', `approximate must be 'none' or 'tanh', got ${String(approximate)}`);
    }
    return mul(k(mul(x, 0.5)), k(add(inner, 1)));
  } finally {
    for (const v of t) v.dispose();
  }
}

/** log(1 + eˣ), computed stably as max(x, 0) + log1p(e^(−|x|)). */
export function softplus(x: Tensor): Tensor {
  assertAlive('softplus', x);
  const xf = cast(x, floatType(x.dtype)); // in integers, neg(abs(x)) would wrap (uint8)
  const pos = maximum(xf, 0);
  const a = abs(xf);
  const na = neg(a);
  const e = exp(na);
  const l = log1p(e);
  try {
    return add(pos, l);
  } finally {
    for (const v of [xf, pos, a, na, e, l]) v.dispose();
  }
}

/** Clamps into [min, max]; `null` leaves that side open. */
export function clip(x: Tensor, min: number | null, max: number | null): Tensor {
  assertAlive('clip', x);
  if (min !== null && max !== null && min > max) fail('clip', `min (${min}) must not exceed max (${max})`);
  // where-based (not maximum/minimum), so the gradient is 1 on [min, max] including the bounds,
  // as in PyTorch's clamp; NaN passes through
  const temps: Tensor[] = [];
  const temp = (v: Tensor) => (temps.push(v), v);
  try {
    let out = x;
    if (min !== null) out = where(temp(lt(out, min)), min, out);
    if (max !== null) {
      const lower = out;
      out = where(temp(gt(lower, max)), max, lower);
      if (lower !== x) temps.push(lower);
    }
    return out === x ? clone(x) : out;
  } finally {
    for (const v of temps) v.dispose();
  }
}

/** Whether each element is NaN (bool). */
export const isNaN = (x: Tensor): Tensor => ne(x, x);

/** Whether each element is finite (bool). */
export function isFinite(x: Tensor): Tensor {
  if (!isFloat(x.dtype)) return apply1('fill', [], { shape: x.shape, value: 1, dtype: 'bool' }, x.backend);
  const a = abs(x);
  try {
    return lt(a, Infinity);
  } finally {
    a.dispose();
  }
}

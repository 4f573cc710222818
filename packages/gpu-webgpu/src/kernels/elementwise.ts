/** WGSL kernels of the elementwise primitives, casts, copies and fills. */
import type { DType } from '@ml/tensor';
import type { GpuKernel, GpuView, WebGPUBackend } from '../backend.js';
import { workgroupsFor } from '../backend.js';
import { bindings, entry, storageType, stridedIndex } from '../wgsl.js';
import { MATH_WGSL } from './math.js';

type Ty = 'f32' | 'i32' | 'u32';
/** An expression of the operand(s) `a` (and `b`) for a storage type, or undefined if unsupported. */
type Expr = (t: Ty, a: string, b: string) => string | undefined;

const byType = (f: string, i: string, u: string): Expr => (t, a, b) =>
  (t === 'f32' ? f : t === 'i32' ? i : u).replaceAll('A', a).replaceAll('B', b);
const floatOnly = (f: string): Expr => (t, a, b) => (t === 'f32' ? f.replaceAll('A', a).replaceAll('B', b) : undefined);

/** uint8 values live in u32: arithmetic wraps mod 256. */
const UNARY: Record<string, Expr> = {
  neg: byType('-A', '-A', '((0u - A) & 255u)'),
  abs: byType('abs(A)', 'abs(A)', 'A'),
  sign: byType('sign_(A)', 'sign(A)', 'select(0u, 1u, A > 0u)'),
  floor: floatOnly('floor(A)'),
  ceil: floatOnly('ceil(A)'),
  round: floatOnly('round(A)'), // WGSL rounds halves to even
  copy: byType('A', 'A', 'A'),
  exp: floatOnly('exp_(A)'),
  log: floatOnly('log_(A)'),
  log1p: floatOnly('log1p_(A)'),
  expm1: floatOnly('expm1_(A)'),
  sqrt: floatOnly('sqrt(A)'),
  rsqrt: floatOnly('(1.0 / sqrt(A))'),
  sin: floatOnly('sin_(A)'),
  cos: floatOnly('cos_(A)'),
  tanh: floatOnly('tanh_(A)'),
  sigmoid: floatOnly('sigmoid_(A)'),
  erf: floatOnly('erf_(A)'),
  erfinv: floatOnly('erfinv_(A)'),
  logicalNot: byType('', '', 'select(0u, 1u, A == 0u)'),
};

const BINARY: Record<string, Expr> = {
  add: byType('(A + B)', '(A + B)', '((A + B) & 255u)'),
  sub: byType('(A - B)', '(A - B)', '((A - B) & 255u)'),
  mul: byType('(A * B)', '(A * B)', '((A * B) & 255u)'),
  div: floatOnly('(A / B)'),
  pow: byType('pow_(A, B)', 'ipow_(A, B)', '(upow_(A, B) & 255u)'),
  maximum: byType('max_(A, B)', 'max(A, B)', 'max(A, B)'),
  minimum: byType('min_(A, B)', 'min(A, B)', 'min(A, B)'),
  mod: byType('mod_(A, B)', 'imod_(A, B)', 'select(A % B, 0u, B == 0u)'),
  // GPUs may compare NaN as anything: floats check for it explicitly (NaN is unequal to everything)
  eq: (t) => (t === 'f32' ? 'select(0u, 1u, A == B && !is_nan(A) && !is_nan(B))' : 'select(0u, 1u, A == B)'),
  ne: (t) => (t === 'f32' ? 'select(0u, 1u, A != B || is_nan(A) || is_nan(B))' : 'select(0u, 1u, A != B)'),
  lt: (t) => (t === 'f32' ? 'select(0u, 1u, A < B && !is_nan(A) && !is_nan(B))' : 'select(0u, 1u, A < B)'),
  le: (t) => (t === 'f32' ? 'select(0u, 1u, A <= B && !is_nan(A) && !is_nan(B))' : 'select(0u, 1u, A <= B)'),
  gt: (t) => (t === 'f32' ? 'select(0u, 1u, A > B && !is_nan(A) && !is_nan(B))' : 'select(0u, 1u, A > B)'),
  ge: (t) => (t === 'f32' ? 'select(0u, 1u, A >= B && !is_nan(A) && !is_nan(B))' : 'select(0u, 1u, A >= B)'),
  logicalAnd: () => 'select(0u, 1u, A != 0u && B != 0u)',
  logicalOr: () => 'select(0u, 1u, A != 0u || B != 0u)',
  logicalXor: () => 'select(0u, 1u, (A != 0u) != (B != 0u))',
};
for (const op of ['eq', 'ne', 'lt', 'le', 'gt', 'ge', 'logicalAnd', 'logicalOr', 'logicalXor']) {
  const f = BINARY[op];
  BINARY[op] = (t, a, b) => f(t, a, b)!.replaceAll('A', a).replaceAll('B', b);
}

/**
 * The read plans of strided inputs: `at{k}(i)`, the storage index of element i of input k, for
 * each input, its words appended to `meta`; `keys` tell the pipelines apart.
 */
export function readPlans(inputs: readonly GpuView[], meta: number[]): { fns: string[]; keys: string[] } {
  const fns: string[] = [];
  const keys: string[] = [];
  inputs.forEach((v, k) => {
    const plan = stridedIndex(`at${k}`, v, meta.length);
    meta.push(...plan.meta);
    fns.push(plan.fn);
    keys.push(plan.key);
  });
  return { fns, keys };
}

/**
 * Launches out0[i] = body over the output's elements, reading each input through its own strided
 * index function (`at0(i)`, `at1(i)`...).
 */
export function elementwise(gpu: WebGPUBackend, op: string, inputs: readonly GpuView[], out: GpuView, body: (reads: string[]) => string, keyExtra = ''): void {
  const n = out.shape.reduce((a, b) => a * b, 1);
  const meta: number[] = [n];
  const { fns, keys } = readPlans(inputs, meta);
  const reads = inputs.map((_, k) => `in${k}[at${k}(i)]`);
  const expr = body(reads);
  const key = `${op}|${inputs.map((v) => v.dtype).join(',')}>${out.dtype}|${keys.join(',')}|${keyExtra}`;
  gpu.dispatch({
    op,
    key,
    code: () => `${bindings(inputs.map((v) => v.dtype), [out.dtype], true)}
${MATH_WGSL}
${fns.join('\n')}
${entry()}
  if (i >= u32(info[0])) { return; }
  out0[i] = ${expr};
}`,
    inputs: inputs.map((v) => v.storage),
    outputs: [out.storage],
    meta,
    workgroups: workgroupsFor(n),
  });
}

function unsupported(op: string, dtype: DType): never {
  throw new Error(`${op}: backend "webgpu" has no kernel for dtype ${dtype}`);
}

/** Float ops whose NaN behaviour is left to the GPU (everything else maps NaN to NaN explicitly). */
const NAN_SAFE = new Set(['neg', 'abs', 'copy', 'sign', 'tanh', 'erf', 'erfinv']);

function unaryKernel(op: string): GpuKernel {
  return (gpu, [x], [out]) => {
    const t = storageType(x.dtype);
    let expr = UNARY[op](t, 'A', 'B') || unsupported(op, x.dtype);
    if (t === 'f32' && !NAN_SAFE.has(op)) expr = `select(${expr}, A, is_nan(A))`;
    elementwise(gpu, op, [x], out, ([a]) => expr.replaceAll('A', a));
  };
}

/** Float arithmetic whose result is NaN whenever an operand is (pow handles its own cases). */
const NAN_PROPAGATES = new Set(['add', 'sub', 'mul', 'div', 'mod']);

function binaryKernel(op: string): GpuKernel {
  return (gpu, [a, b], [out]) => {
    const t = storageType(a.dtype);
    let expr = BINARY[op](t, 'A', 'B') || unsupported(op, a.dtype);
    if (t === 'f32' && NAN_PROPAGATES.has(op)) expr = `select(${expr}, nan_(), is_nan(A) || is_nan(B))`;
    // operands are read once into locals so each appears once in the expression
    elementwise(gpu, op, [a, b], out, ([ra, rb]) => expr.replaceAll('A', `(${ra})`).replaceAll('B', `(${rb})`));
  };
}

/** Conversion between storage types with the CPU backend's semantics. */
function castExpr(from: DType, to: DType, a: string): string {
  const src = storageType(from);
  if (to === 'bool') return src === 'f32' ? `select(0u, 1u, ${a} != 0.0 || is_nan(${a}))` : `select(0u, 1u, ${a} != ${src === 'i32' ? '0' : '0u'})`;
  if (to === 'float32') return `f32(${a})`;
  if (to === 'int32') return src === 'f32' ? `f32_to_i32_(${a})` : `i32(${a})`;
  // uint8: wrap mod 256 like a Uint8Array store
  if (src === 'f32') return `(bitcast<u32>(f32_to_i32_(${a})) & 255u)`;
  return `(u32(${a}) & 255u)`;
}

const castKernel: GpuKernel = (gpu, [x], [out], { dtype }: { dtype: DType }) => {
  elementwise(gpu, 'cast', [x], out, ([a]) => castExpr(x.dtype, dtype, a));
};

const whereKernel: GpuKernel = (gpu, [c, a, b], [out]) => {
  elementwise(gpu, 'where', [c, a, b], out, ([rc, ra, rb]) => `select(${rb}, ${ra}, ${rc} != 0u)`);
};

const fillKernel: GpuKernel = (gpu, _inputs, [out], { value }: { value: number }) => {
  const t = storageType(out.dtype);
  const bits = new Int32Array(1);
  if (t === 'f32') new Float32Array(bits.buffer)[0] = value;
  else if (out.dtype === 'bool') bits[0] = value ? 1 : 0;
  else if (out.dtype === 'uint8') bits[0] = value & 255;
  else bits[0] = value;
  const v = t === 'f32' ? 'bitcast<f32>(info[1])' : t === 'i32' ? 'info[1]' : 'u32(info[1])';
  const n = out.shape.reduce((p, q) => p * q, 1);
  gpu.dispatch({
    op: 'fill',
    key: `fill|${t}`,
    code: () => `${bindings([], [out.dtype], true)}
${entry()}
  if (i >= u32(info[0])) { return; }
  out0[i] = ${v};
}`,
    inputs: [],
    outputs: [out.storage],
    meta: [n, bits[0]],
    workgroups: workgroupsFor(n),
  });
};

export const ELEMENTWISE_KERNELS: Record<string, GpuKernel> = {
  cast: castKernel,
  where: whereKernel,
  fill: fillKernel,
};
for (const op of Object.keys(UNARY)) ELEMENTWISE_KERNELS[op] = unaryKernel(op);
for (const op of Object.keys(BINARY)) ELEMENTWISE_KERNELS[op] = binaryKernel(op);

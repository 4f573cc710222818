/**
 * WGSL kernels of softmax and log-softmax along one axis, fused: each row is handled by T threads
 * of one workgroup (T a power of two up to 256, about 8 elements a thread; short rows share a
 * workgroup) in three strided passes over the row:
 *
 *   1. m = max x, by a tree of u32 order keys in workgroup memory (NaN ranks above everything, so
 *      a row with NaN has m = NaN whatever the GPU's float max does with NaN);
 *   2. s = Σ exp(x − m), a tree of float sums;
 *   3. softmax: y = exp(x − m) / s;  log-softmax: y = (x − m) − log s.
 *
 * Rows whose max is not finite are settled by their max alone, exactly as the CPU kernels compute
 * them: softmax gives NaN (x − m is NaN for a row of −∞ and for the +∞ entries, and s is then
 * NaN); log-softmax shifts by 0 there, so a NaN or all −∞ row gives NaN and a row with +∞ gives
 * NaN at the +∞ entries and −∞ elsewhere (x − log ∞).
 *
 * The input is read through its strides; the output is contiguous: element j of row r (rows in
 * row-major order of the other dims) is out[(r / inner)·inner·n + r % inner + j·inner], with inner
 * the product of the dims after the axis.
 */
import type { GpuKernel, GpuView } from '../backend.js';
import { workgroupsFor } from '../backend.js';
import { bindings, stridedIndex } from '../wgsl.js';
import { MATH_WGSL } from './math.js';
import { arranged, KEY_WGSL } from './reduce.js';

/** Threads per workgroup. */
const WG = 256;
/** Elements per thread the thread count aims for. */
const PER_THREAD = 8;

const sizeOf = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);

/** Threads per row: a power of two, about PER_THREAD elements each, at most a workgroup. */
function threadsFor(n: number): number {
  let t = 1;
  while (t < WG && t * PER_THREAD < n) t *= 2;
  return t;
}

/** `x` with the softmax axis moved last, so the row-major index of its shape is row · n + j. */
function rowsView(x: GpuView, axis: number): GpuView {
  return arranged(x, [...[...x.shape.keys()].filter((d) => d !== axis), axis]);
}

/** reduce.ts's order keys (`key_f32`: NaN above everything, −0 = +0), and back (+0 for a zero). */
const UNKEY_WGSL = /* wgsl */ `
fn unkey_(k: u32) -> f32 { return bitcast<f32>(select(~k, k ^ 0x80000000u, k >= 0x80000000u)); }
fn finite_(x: f32) -> bool { return (bitcast<u32>(x) & 0x7fffffffu) < 0x7f800000u; }
`;

/** The WGSL of one kernel: `log` picks log-softmax, T is the threads per row. */
function source(log: boolean, T: number, fn: string): string {
  const finiteOut = log ? '(x - m) - ls' : 'exp_(x - m) / s';
  // max not finite: only a log-softmax row with +∞ (and no NaN) has values other than NaN
  const specialOut = log ? 'select(nan_(), select(-inf_(), nan_(), x == inf_()), m == inf_())' : 'nan_()';
  return `${bindings(['float32'], ['float32'], true)}
${MATH_WGSL}
${KEY_WGSL}
${UNKEY_WGSL}
${fn}
const T: u32 = ${T}u;
var<workgroup> sk: array<u32, ${WG}>;
var<workgroup> ss: array<f32, ${WG}>;
@compute @workgroup_size(${WG})
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let w = wid.x + wid.y * nwg.x;
  let rows = u32(info[0]);
  let n = u32(info[1]);
  let inner = u32(info[2]);
  let g = lid / T;
  let t = lid % T;
  let row = w * (${WG}u / T) + g;
  let live = row < rows;
  let first = row * n;
  // 1. the row's max (as an order key)
  var k = 0u;
  if (live) {
    for (var j = t; j < n; j += T) { k = max(k, key_f32(in0[at0(first + j)])); }
  }
  sk[lid] = k;
  workgroupBarrier();
  for (var h = T / 2u; h > 0u; h = h >> 1u) {
    if (t < h) { sk[lid] = max(sk[lid], sk[lid + h]); }
    workgroupBarrier();
  }
  let m = unkey_(sk[g * T]);
  let finite = finite_(m);
  // 2. Σ exp(x − m): at least 1 (the max itself), so finite rows need no special cases
  var acc = 0.0;
  if (live && finite) {
    for (var j = t; j < n; j += T) { acc += exp_(in0[at0(first + j)] - m); }
  }
  ss[lid] = acc;
  workgroupBarrier();
  for (var h = T / 2u; h > 0u; h = h >> 1u) {
    if (t < h) { ss[lid] = ss[lid] + ss[lid + h]; }
    workgroupBarrier();
  }
  let s = ss[g * T];
  ${log ? 'let ls = log_(s);' : ''}
  // 3. the outputs
  if (live) {
    let base = (row / inner) * inner * n + row % inner;
    for (var j = t; j < n; j += T) {
      let x = in0[at0(first + j)];
      var y: f32;
      if (finite) { y = ${finiteOut}; } else { y = ${specialOut}; }
      out0[base + j * inner] = y;
    }
  }
}`;
}

function softmaxKernel(op: 'softmax' | 'logSoftmax'): GpuKernel {
  return (gpu, [x], [out], { axis }: { axis: number }) => {
    if (x.dtype !== 'float32') throw new Error(`${op}: the WebGPU backend computes float32 only, got ${x.dtype}`);
    const n = x.shape[axis];
    const total = sizeOf(x.shape);
    if (total === 0) return;
    const rows = total / n;
    const T = threadsFor(n);
    const plan = stridedIndex('at0', rowsView(x, axis), 3);
    gpu.dispatch({
      op,
      key: `${op}|${plan.key}|T${T}`,
      code: () => source(op === 'logSoftmax', T, plan.fn),
      inputs: [x.storage],
      outputs: [out.storage],
      meta: [rows, n, sizeOf(x.shape.slice(axis + 1)), ...plan.meta],
      workgroups: workgroupsFor(Math.ceil(rows / (WG / T)), 1),
    });
  };
}

export const SOFTMAX_KERNELS: Record<string, GpuKernel> = {
  softmax: softmaxKernel('softmax'),
  logSoftmax: softmaxKernel('logSoftmax'),
};

/**
 * WGSL kernels of the reductions (sum, prod, max, min, argmax, argmin), cumsum and sort.
 *
 * Every kernel reads its input through a view with the kept dims first and the reduced (or
 * scanned, or sorted) dims last, so any strides work. Semantics follow the CPU kernels exactly:
 * max/min propagate NaN, argmax/argmin pick the first NaN (else the first of ties), sort is stable
 * with NaN as the largest value.
 */
import type { DType } from '@ml/tensor';
import type { GpuKernel, GpuStorage, GpuView, WebGPUBackend } from '../backend.js';
import { workgroupsFor } from '../backend.js';
import { bindings, entry, storageType, stridedIndex } from '../wgsl.js';
import { MATH_WGSL } from './math.js';

type Ty = 'f32' | 'i32' | 'u32';

/** Threads per workgroup of the workgroup kernels. */
const WG = 256;
/** Elements one workgroup reduces before a reduction is split over several workgroups. */
const CHUNK = 4096;
/** With at least this many outputs there is parallelism enough: no split. */
const MANY_OUTPUTS = 1024;
/** Elements each thread of a scan handles per step. */
const SCAN_ITEMS = 4;
/** (key, index) pairs a workgroup sorts in workgroup memory: 2 × 1024 × 4 bytes = 8 KiB. */
const SORT_BLOCK = 1024;

const sizeOf = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);

function nextPow2(n: number): number {
  let p = 1;
  while (p < n) p *= 2;
  return p;
}

/** Threads per output for `len` elements each: about 8 elements a thread, at most a workgroup. */
function threadsFor(len: number, perThread: number): number {
  return Math.min(WG, nextPow2(Math.ceil(len / perThread)));
}

/**
 * `x` with its dims in `order` (so its row-major index runs over them), without size-1 dims and
 * with neighbours that read memory contiguously merged: fewer dims make cheaper index functions.
 */
export function arranged(x: GpuView, order: readonly number[]): GpuView {
  const shape: number[] = [];
  const strides: number[] = [];
  for (const d of order) {
    const n = x.shape[d];
    const s = x.strides[d];
    if (n === 1) continue;
    const last = shape.length - 1;
    if (last >= 0 && strides[last] === s * n) {
      shape[last] *= n;
      strides[last] = s;
    } else {
      shape.push(n);
      strides.push(s);
    }
  }
  return { storage: x.storage, dtype: x.dtype, offset: x.offset, shape, strides };
}

function denseView(storage: GpuStorage, dtype: DType, size: number): GpuView {
  return { storage, dtype, offset: 0, shape: [size], strides: [1] };
}

/** Entry point of a workgroup kernel: `w` is the workgroup (2-D dispatches folded in), `lid` the thread in it. */
function groupEntry(): string {
  return `@compute @workgroup_size(${WG})
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let w = wid.x + wid.y * nwg.x;`;
}

/** Workgroups for `groups` workgroups, folded into 2-D past the 65535 limit. */
const groupsFor = (groups: number) => workgroupsFor(groups, 1);

/**
 * Order keys: u32 values whose unsigned order is the order of the elements. Floats compare by
 * bits (so the GPU's NaN and denormal handling plays no part): NaN above everything, −0 = +0.
 */
export const KEY_WGSL = /* wgsl */ `
fn key_f32(x: f32) -> u32 {
  let b = bitcast<u32>(x);
  let m = b & 0x7fffffffu;
  if (m > 0x7f800000u) { return 0xffffffffu; }
  if (m == 0u) { return 0x80000000u; }
  return select(b | 0x80000000u, ~b, b >= 0x80000000u);
}
fn key_i32(x: i32) -> u32 { return bitcast<u32>(x) ^ 0x80000000u; }
fn key_u32(x: u32) -> u32 { return x; }
`;

/** Float sums and products that propagate NaN, whatever the GPU does with it. */
const ARITH_WGSL = /* wgsl */ `
fn add_f32(a: f32, b: f32) -> f32 { return select(a + b, nan_(), is_nan(a) || is_nan(b)); }
fn mul_f32(a: f32, b: f32) -> f32 { return select(a * b, nan_(), is_nan(a) || is_nan(b)); }
// sums start from +0, so they are never −0 (as on the CPU)
fn plus_zero(x: f32) -> f32 { let b = bitcast<u32>(x); return bitcast<f32>(select(b, 0u, b == 0x80000000u)); }
`;

const zero = (t: Ty) => (t === 'f32' ? '0.0' : t === 'i32' ? '0' : '0u');
const one = (t: Ty) => (t === 'f32' ? '1.0' : t === 'i32' ? '1' : '1u');

/** How a final sum or product is stored: uint8/bool wrap mod 256 (a Uint8Array on the CPU), float sums are never −0. */
function finish(op: string, t: Ty, v: string): string {
  if (t === 'u32') return `(${v} & 255u)`;
  if (t === 'f32' && op === 'sum') return `plus_zero(${v})`;
  return v;
}

// ---------------------------------------------------------------------------------------------
// sum, prod, max, min, argmax, argmin

type ReduceOp = 'sum' | 'prod' | 'max' | 'min' | 'argmax' | 'argmin';

interface ReducePass {
  op: ReduceOp;
  /** The values: the arranged input, or the partial results of an earlier pass. */
  src: GpuView;
  /** Indices of the partial results (selections only), or null to use the position. */
  srcIndex: GpuStorage | null;
  outer: number;
  inner: number;
  /** Workgroup segments per output (1 in the last pass) and the elements of each. */
  segs: number;
  chunk: number;
  /** Value output (dtype of src) and index output (int32), as the pass needs. */
  outValue: GpuStorage | null;
  outIndex: GpuStorage | null;
}

/**
 * One reduction pass: virtual output v (output o = v / segs, segment v % segs) is reduced by T
 * threads of a workgroup: a strided loop over its elements, then a tree in workgroup memory.
 * Selections (max, min, arg*) carry (value, index) pairs and keep the lower index on ties, so the
 * result does not depend on the reduction order.
 */
function reducePass(gpu: WebGPUBackend, p: ReducePass): void {
  const { op, src } = p;
  const t = storageType(src.dtype);
  const select = op !== 'sum' && op !== 'prod';
  const last = p.segs === 1;
  const T = threadsFor(p.chunk, 8);
  const plan = stridedIndex('at0', src, 4);
  const meta = [p.outer, p.inner, p.segs, p.chunk, ...plan.meta];
  const isMax = op === 'max' || op === 'argmax';

  const inputs: GpuView[] = [src];
  if (p.srcIndex) inputs.push(denseView(p.srcIndex, 'int32', p.outer * p.inner));
  const outDtypes: DType[] = [];
  const outputs: GpuStorage[] = [];
  if (p.outValue) {
    outDtypes.push(src.dtype);
    outputs.push(p.outValue);
  }
  if (p.outIndex) {
    outDtypes.push('int32');
    outputs.push(p.outIndex);
  }

  const code = () => {
    const lines: string[] = [];
    let combine: string;
    let merge: string;
    let store: string;
    if (select) {
      // rank: higher wins; NaN ranks above every number for both max and min
      const rank = isMax ? `key_${t}(x)` : t === 'f32' ? 'select(~key_f32(x), 0xffffffffu, is_nan(x))' : `~key_${t}(x)`;
      lines.push(`fn rank(x: ${t}) -> u32 { return ${rank}; }
// whether (bv, bi) beats (av, ai); index 0xffffffff marks an empty slot
fn beats(bv: ${t}, bi: u32, av: ${t}, ai: u32) -> bool {
  if (bi == 0xffffffffu) { return false; }
  if (ai == 0xffffffffu) { return true; }
  let rb = rank(bv);
  let ra = rank(av);
  return rb > ra || (rb == ra && bi < ai);
}`);
      const xi = p.srcIndex ? 'u32(in1[e])' : 'r';
      combine = `let xi = ${xi};
      if (beats(x, xi, acc, ai)) { acc = x; ai = xi; }`;
      merge = `if (beats(sv[lid + h], si[lid + h], sv[lid], si[lid])) { sv[lid] = sv[lid + h]; si[lid] = si[lid + h]; }`;
      if (!last) {
        store = `out0[v] = sv[lid];
    out1[v] = i32(si[lid]);`;
      } else if (op === 'argmax' || op === 'argmin') {
        store = `out0[v] = select(i32(si[lid]), 0, si[lid] == 0xffffffffu);`;
      } else {
        // an empty reduction stores ∓∞ like the CPU (which becomes 0 in an integer array)
        const empty = t === 'f32' ? (isMax ? '-inf_()' : 'inf_()') : zero(t);
        store = `out0[v] = select(sv[lid], ${empty}, si[lid] == 0xffffffffu);`;
      }
    } else {
      const f = op === 'sum' ? (t === 'f32' ? 'add_f32(A, B)' : '(A + B)') : t === 'f32' ? 'mul_f32(A, B)' : '(A * B)';
      const apply = (a: string, b: string) => f.replace('A', a).replace('B', b);
      combine = `acc = ${apply('acc', 'x')};`;
      merge = `sv[lid] = ${apply('sv[lid]', 'sv[lid + h]')};`;
      store = `out0[v] = ${last ? finish(op, t, 'sv[lid]') : 'sv[lid]'};`;
    }
    const identity = op === 'prod' ? one(t) : zero(t);
    return `${bindings(inputs.map((v) => v.dtype), outDtypes, true)}
${MATH_WGSL}
${KEY_WGSL}
${ARITH_WGSL}
${plan.fn}
${lines.join('\n')}
const T: u32 = ${T}u;
var<workgroup> sv: array<${t}, ${WG}>;
${select ? `var<workgroup> si: array<u32, ${WG}>;` : ''}
${groupEntry()}
  let outer = u32(info[0]);
  let inner = u32(info[1]);
  let segs = u32(info[2]);
  let chunk = u32(info[3]);
  let g = lid / T;
  let t = lid % T;
  let v = w * (${WG}u / T) + g;
  var acc: ${t} = ${identity};
  ${select ? 'var ai = 0xffffffffu;' : ''}
  if (v < outer * segs) {
    let o = v / segs;
    let start = (v % segs) * chunk;
    let end = min(inner, start + chunk);
    for (var r = start + t; r < end; r += T) {
      let e = o * inner + r;
      let x = in0[at0(e)];
      ${combine}
    }
  }
  sv[lid] = acc;
  ${select ? 'si[lid] = ai;' : ''}
  workgroupBarrier();
  for (var h = T / 2u; h > 0u; h = h >> 1u) {
    if (t < h) {
      ${merge}
    }
    workgroupBarrier();
  }
  if (t == 0u && v < outer * segs) {
    ${store}
  }
}`;
  };

  const key = `${op}|${src.dtype}|${plan.key}|T${T}|${p.srcIndex ? 'i' : ''}${last ? 'f' : 'p'}`;
  gpu.dispatch({
    op,
    key,
    code,
    inputs: inputs.map((v) => v.storage),
    outputs,
    meta,
    workgroups: groupsFor(Math.ceil((p.outer * p.segs) / (WG / T))),
  });
}

function reduceKernel(op: ReduceOp): GpuKernel {
  return (gpu, [x], [out], params: { axes?: readonly number[]; axis?: number }) => {
    const axes = op === 'argmax' || op === 'argmin' ? [params.axis!] : [...(params.axes ?? [])].sort((a, b) => a - b);
    const kept = x.shape.map((_, d) => d).filter((d) => !axes.includes(d));
    const outer = sizeOf(kept.map((d) => x.shape[d]));
    if (outer === 0) return;
    const select = op !== 'sum' && op !== 'prod';
    let src = arranged(x, [...kept, ...axes]);
    let srcIndex: GpuStorage | null = null;
    let inner = sizeOf(axes.map((d) => x.shape[d]));
    const scratch: GpuStorage[] = [];
    for (;;) {
      // few outputs over many elements: split each over several workgroups, then reduce the partials
      const segs = outer >= MANY_OUTPUTS || inner <= CHUNK ? 1 : Math.ceil(inner / CHUNK);
      if (segs === 1) {
        const arg = op === 'argmax' || op === 'argmin';
        reducePass(gpu, { op, src, srcIndex, outer, inner, segs, chunk: inner, outValue: arg ? null : out.storage, outIndex: arg ? out.storage : null });
        break;
      }
      const size = outer * segs;
      const value = gpu.allocate(x.dtype, size);
      const index = select ? gpu.allocate('int32', size) : null;
      reducePass(gpu, { op, src, srcIndex, outer, inner, segs, chunk: CHUNK, outValue: value, outIndex: index });
      for (const s of scratch.splice(0)) gpu.free(s); // later work on a reused buffer is encoded after this pass
      scratch.push(value);
      if (index) scratch.push(index);
      src = denseView(value, x.dtype, size);
      srcIndex = index;
      inner = segs;
    }
    for (const s of scratch) gpu.free(s);
  };
}

// ---------------------------------------------------------------------------------------------
// cumsum

interface ScanPass {
  /** The rows (outer × n, row-major). */
  src: GpuView;
  outer: number;
  n: number;
  /** Segments per row (1: whole rows) and the elements of each. */
  segs: number;
  chunk: number;
  /** Inclusive scans of the segment sums (outer × segs), or null when segs is 1. */
  carries: GpuStorage | null;
  out: GpuStorage;
  /** Element j of row r goes to out[(r / step)·step·n + r % step + j·step]. */
  step: number;
  /** Whether `out` is the result (stored as its dtype stores) or an intermediate. */
  last: boolean;
}

/**
 * One scan pass: virtual row v (row v / segs, segment v % segs) is scanned by T threads in steps
 * of T·4 elements: each thread sums its 4, a Hillis–Steele scan in workgroup memory combines the
 * threads, and a carry (starting from the earlier segments' sum) links the steps.
 */
function scanPass(gpu: WebGPUBackend, p: ScanPass): void {
  const { src } = p;
  const t = storageType(src.dtype);
  const T = p.chunk <= 2 * SCAN_ITEMS ? 1 : threadsFor(p.chunk, SCAN_ITEMS);
  const plan = stridedIndex('at0', src, 5);
  const add = (a: string, b: string) => (t === 'f32' ? `add_f32(${a}, ${b})` : `(${a} + ${b})`);
  const inputs: GpuView[] = [src];
  if (p.carries) inputs.push(denseView(p.carries, src.dtype, p.outer * p.segs));
  const result = add('before', 'part[k]');
  const code = () => `${bindings(inputs.map((v) => v.dtype), [src.dtype], true)}
${MATH_WGSL}
${ARITH_WGSL}
${plan.fn}
const T: u32 = ${T}u;
const E: u32 = ${SCAN_ITEMS}u;
var<workgroup> sh: array<${t}, ${WG}>;
${groupEntry()}
  let outer = u32(info[0]);
  let n = u32(info[1]);
  let step = u32(info[2]);
  let segs = u32(info[3]);
  let chunk = u32(info[4]);
  let g = lid / T;
  let t = lid % T;
  let v = w * (${WG}u / T) + g;
  let live = v < outer * segs;
  let row = v / segs;
  let seg = v % segs;
  let end = min(n, (seg + 1u) * chunk);
  let base = (row / step) * step * n + row % step;
  var carry: ${t} = ${zero(t)};
  ${p.carries ? 'if (live && seg > 0u) { carry = in1[v - 1u]; }' : ''}
  let steps = (chunk + T * E - 1u) / (T * E);
  for (var c = 0u; c < steps; c++) {
    let j0 = seg * chunk + (c * T + t) * E;
    var part: array<${t}, ${SCAN_ITEMS}>;
    var run: ${t} = ${zero(t)};
    for (var k = 0u; k < E; k++) {
      let j = j0 + k;
      if (live && j < end) { run = ${add('run', 'in0[at0(row * n + j)]')}; }
      part[k] = run;
    }
    sh[lid] = run;
    workgroupBarrier();
    for (var d = 1u; d < T; d = d << 1u) {
      var left: ${t} = ${zero(t)};
      let has = t >= d;
      if (has) { left = sh[lid - d]; }
      workgroupBarrier();
      if (has) { sh[lid] = ${add('left', 'sh[lid]')}; }
      workgroupBarrier();
    }
    var before = carry;
    if (t > 0u) { before = ${add('carry', 'sh[lid - 1u]')}; }
    for (var k = 0u; k < E; k++) {
      let j = j0 + k;
      if (live && j < end) { out0[base + j * step] = ${p.last ? finish('sum', t, result) : result}; }
    }
    carry = ${add('carry', 'sh[g * T + T - 1u]')};
    workgroupBarrier();
  }
}`;
  gpu.dispatch({
    op: 'cumsum',
    key: `cumsum|${src.dtype}|${plan.key}|T${T}|${p.carries ? 'c' : ''}${p.last ? 'f' : 'p'}`,
    code,
    inputs: inputs.map((v) => v.storage),
    outputs: [p.out],
    meta: [p.outer, p.n, p.step, p.segs, p.chunk, ...plan.meta],
    workgroups: groupsFor(Math.ceil((p.outer * p.segs) / (WG / T))),
  });
}

/**
 * Scans rows. Few long rows are split into segments: the segments' sums (a reduction pass), a
 * scan of those sums (recursively), then every segment scans itself from its carry.
 */
function scan(gpu: WebGPUBackend, src: GpuView, outer: number, n: number, out: GpuStorage, step: number, last: boolean): void {
  const segs = outer >= MANY_OUTPUTS || n <= CHUNK ? 1 : Math.ceil(n / CHUNK);
  if (segs === 1) {
    scanPass(gpu, { src, outer, n, segs, chunk: n, carries: null, out, step, last });
    return;
  }
  const size = outer * segs;
  const sums = gpu.allocate(src.dtype, size);
  reducePass(gpu, { op: 'sum', src, srcIndex: null, outer, inner: n, segs, chunk: CHUNK, outValue: sums, outIndex: null });
  const carries = gpu.allocate(src.dtype, size);
  scan(gpu, denseView(sums, src.dtype, size), outer, segs, carries, 1, false);
  scanPass(gpu, { src, outer, n, segs, chunk: CHUNK, carries, out, step, last });
  gpu.free(sums);
  gpu.free(carries);
}

const cumsumKernel: GpuKernel = (gpu, [x], [out], { axis }: { axis: number }) => {
  const n = x.shape[axis];
  const total = sizeOf(x.shape);
  if (total === 0) return;
  const kept = x.shape.map((_, d) => d).filter((d) => d !== axis);
  scan(gpu, arranged(x, [...kept, axis]), total / n, n, out.storage, sizeOf(x.shape.slice(axis + 1)), true);
};

// ---------------------------------------------------------------------------------------------
// sort

/**
 * Bitonic sort of (key, index) pairs, rows padded to P = 2^k slots with pairs that sort last.
 * Keys order the values (descending: complemented), indices break ties, so the result is the
 * stable sort. Rows of up to SORT_BLOCK slots sort in one workgroup (several rows per workgroup
 * when short); longer rows go through global scratch: blocks sort in workgroup memory, the
 * merge steps with a stride of SORT_BLOCK or more run one thread per pair over global memory,
 * and the smaller strides of each merge stage run in workgroup memory again.
 */
type SortSource = 'input' | 'scratch';
type SortSink = 'scratch' | 'output';

interface SortLayout {
  x: GpuView;
  plan: ReturnType<typeof stridedIndex>;
  outer: number;
  n: number;
  P: number;
  step: number;
  descending: boolean;
}

/** Sorts blocks of (up to) SORT_BLOCK slots in workgroup memory through merge stages kFrom..kTo. */
function sortBlocks(gpu: WebGPUBackend, s: SortLayout, from: SortSource, to: SortSink, kFrom: number, kTo: number,
  scratch: readonly GpuStorage[], outs: readonly GpuStorage[]): void {
  const t = storageType(s.x.dtype);
  const L = SORT_BLOCK;
  // slots per workgroup: a power of two, fewer than L when all rows together are shorter
  const B = Math.min(L, nextPow2(s.outer * s.P));
  const needInput = from === 'input' || to === 'output';
  // bindings: the input (if read), scratch read-only when only read, outputs last
  let inputs: GpuStorage[];
  let inDtypes: DType[];
  let outputs: GpuStorage[];
  let outDtypes: DType[];
  let keys: string;
  let idx: string;
  if (from === 'scratch' && to === 'scratch') {
    inputs = [];
    inDtypes = [];
    outputs = [...scratch];
    outDtypes = ['uint8', 'uint8'];
    [keys, idx] = ['out0', 'out1'];
  } else if (from === 'scratch') {
    inputs = [s.x.storage, ...scratch];
    inDtypes = [s.x.dtype, 'uint8', 'uint8'];
    outputs = [...outs];
    outDtypes = [s.x.dtype, 'int32'];
    [keys, idx] = ['in1', 'in2'];
  } else {
    inputs = [s.x.storage];
    inDtypes = [s.x.dtype];
    outputs = to === 'scratch' ? [...scratch] : [...outs];
    outDtypes = to === 'scratch' ? ['uint8', 'uint8'] : [s.x.dtype, 'int32'];
    [keys, idx] = ['out0', 'out1'];
  }
  const load = from === 'input'
    ? `let row = slot / P;
    let pos = slot % P;
    if (row < outer && pos < n) { key = sort_key(in0[at0(row * n + pos)], down); id = pos; }`
    : `if (slot < total) { key = ${keys}[slot]; id = ${idx}[slot]; }`;
  const store = to === 'scratch'
    ? `if (slot < total) { ${keys}[slot] = sk[q]; ${idx}[slot] = sx[q]; }`
    : `let row = slot / P;
    let pos = slot % P;
    if (row < outer && pos < n) {
      let id = sx[q];
      let o = (row / step) * step * n + row % step + pos * step;
      out0[o] = in0[at0(row * n + id)];
      out1[o] = i32(id);
    }`;
  const code = () => `${bindings(inDtypes, outDtypes, true)}
${KEY_WGSL}
${needInput ? s.plan.fn : ''}
${needInput ? `fn sort_key(x: ${t}, down: bool) -> u32 { let k = key_${t}(x); return select(k, ~k, down); }` : ''}
var<workgroup> sk: array<u32, ${L}>;
var<workgroup> sx: array<u32, ${L}>;
${groupEntry()}
  let outer = u32(info[0]);
  let n = u32(info[1]);
  let P = u32(info[2]);
  let step = u32(info[3]);
  let kFrom = u32(info[4]);
  let kTo = u32(info[5]);
  let down = info[6] != 0;
  let B = u32(info[7]);
  let total = outer * P;
  let first = w * B;
  for (var q = lid; q < B; q += ${WG}u) {
    let slot = first + q;
    var key = 0xffffffffu;
    var id = 0xffffffffu;
    ${load}
    sk[q] = key;
    sx[q] = id;
  }
  workgroupBarrier();
  for (var k = kFrom; k <= kTo; k = k << 1u) {
    for (var j = min(k, B) >> 1u; j > 0u; j = j >> 1u) {
      for (var q = lid; q < B / 2u; q += ${WG}u) {
        let a = ((q & ~(j - 1u)) << 1u) | (q & (j - 1u));
        let b = a + j;
        let up = (((first + a) % P) & k) == 0u;
        let ka = sk[a];
        let kb = sk[b];
        let ia = sx[a];
        let ib = sx[b];
        let greater = ka > kb || (ka == kb && ia > ib);
        if (greater == up) {
          sk[a] = kb;
          sk[b] = ka;
          sx[a] = ib;
          sx[b] = ia;
        }
      }
      workgroupBarrier();
    }
  }
  for (var q = lid; q < B; q += ${WG}u) {
    let slot = first + q;
    ${store}
  }
}`;
  const planKey = needInput ? s.plan.key : '-';
  gpu.dispatch({
    op: 'sort',
    key: `sort|${s.x.dtype}|${planKey}|${from}>${to}`,
    code,
    inputs,
    outputs,
    meta: [s.outer, s.n, s.P, s.step, kFrom, kTo, s.descending ? 1 : 0, B, ...(needInput ? s.plan.meta : [])],
    workgroups: groupsFor(Math.ceil((s.outer * s.P) / B)),
  });
}

/** One bitonic compare-exchange step (stage k, stride j) over global scratch, one thread per pair. */
function sortGlobalStep(gpu: WebGPUBackend, s: SortLayout, k: number, j: number, scratch: readonly GpuStorage[]): void {
  const pairs = (s.outer * s.P) / 2;
  gpu.dispatch({
    op: 'sort',
    key: 'sort|global-step',
    code: () => `${bindings([], ['uint8', 'uint8'], true)}
${entry()}
  let pairs = u32(info[0]);
  if (i >= pairs) { return; }
  let P = u32(info[1]);
  let k = u32(info[2]);
  let j = u32(info[3]);
  let row = i / (P / 2u);
  let q = i % (P / 2u);
  let a = ((q & ~(j - 1u)) << 1u) | (q & (j - 1u));
  let sa = row * P + a;
  let sb = sa + j;
  let ka = out0[sa];
  let kb = out0[sb];
  let ia = out1[sa];
  let ib = out1[sb];
  let greater = ka > kb || (ka == kb && ia > ib);
  if (greater == ((a & k) == 0u)) {
    out0[sa] = kb;
    out0[sb] = ka;
    out1[sa] = ib;
    out1[sb] = ia;
  }
}`,
    inputs: [],
    outputs: scratch,
    meta: [pairs, s.P, k, j],
    workgroups: workgroupsFor(pairs),
  });
}

const sortKernel: GpuKernel = (gpu, [x], [values, indices], { axis, descending }: { axis: number; descending: boolean }) => {
  const n = x.shape[axis];
  const total = sizeOf(x.shape);
  if (total === 0) return;
  const kept = x.shape.map((_, d) => d).filter((d) => d !== axis);
  const src = arranged(x, [...kept, axis]);
  const s: SortLayout = {
    x,
    plan: stridedIndex('at0', src, 8),
    outer: total / n,
    n,
    P: nextPow2(n),
    step: sizeOf(x.shape.slice(axis + 1)),
    descending: !!descending,
  };
  const outs = [values.storage, indices.storage];
  if (s.P <= SORT_BLOCK) {
    sortBlocks(gpu, s, 'input', 'output', 2, s.P, [], outs);
    return;
  }
  // keys and indices as u32 words (the storage of uint8)
  const scratch = [gpu.allocate('uint8', s.outer * s.P), gpu.allocate('uint8', s.outer * s.P)];
  sortBlocks(gpu, s, 'input', 'scratch', 2, SORT_BLOCK, scratch, outs);
  for (let k = 2 * SORT_BLOCK; k <= s.P; k *= 2) {
    for (let j = k / 2; j >= SORT_BLOCK; j /= 2) sortGlobalStep(gpu, s, k, j, scratch);
    sortBlocks(gpu, s, 'scratch', k === s.P ? 'output' : 'scratch', k, k, scratch, outs);
  }
  for (const b of scratch) gpu.free(b);
};

export const REDUCE_KERNELS: Record<string, GpuKernel> = {
  sum: reduceKernel('sum'),
  prod: reduceKernel('prod'),
  max: reduceKernel('max'),
  min: reduceKernel('min'),
  argmax: reduceKernel('argmax'),
  argmin: reduceKernel('argmin'),
  cumsum: cumsumKernel,
  sort: sortKernel,
};

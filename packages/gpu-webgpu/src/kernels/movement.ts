/**
 * WGSL kernels that move data: concat, pad, gather and scatterAdd, with the semantics of the CPU
 * backend's cpu/movement.ts.
 *
 * concat, pad and gather only copy elements, so they treat every dtype as raw 32-bit words (u32):
 * float bit patterns (NaN payloads, -0, subnormals) pass through untouched and one pipeline serves
 * all dtypes.
 *
 * Out-of-range indices cannot throw when the kernel is encoded: gather and scatterAdd record the
 * first bad index (in row-major order of `index`, as the CPU reports it) in a small per-backend
 * error buffer, and {@link beginIndexCheck} / {@link checkIndexErrors} turn that record into the
 * CPU backend's error on a later read.
 */
import type { DType } from '@ml/tensor';
import { contiguousStrides, TensorError } from '@ml/tensor';
import type { GpuKernel, GpuStorage, GpuView, WebGPUBackend } from '../backend.js';
import { workgroupsFor } from '../backend.js';
import { entry, storageType, stridedIndex } from '../wgsl.js';

const sizeOf = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);

/** `(2, 3)`, `(4,)`, `()`: shapes as @ml/tensor's error messages print them. */
function fmt(shape: readonly number[]): string {
  return `(${shape.join(', ')}${shape.length === 1 ? ',' : ''})`;
}

/**
 * Storage declarations in the backend's binding order (read-only inputs, read-write outputs, then
 * `info`). Each entry is `[name, element type]`.
 */
function declare(reads: readonly [string, string][], writes: readonly [string, string][]): string {
  const lines: string[] = [];
  let b = 0;
  for (const [name, ty] of reads) lines.push(`@group(0) @binding(${b++}) var<storage, read> ${name}: array<${ty}>;`);
  for (const [name, ty] of writes) lines.push(`@group(0) @binding(${b++}) var<storage, read_write> ${name}: array<${ty}>;`);
  lines.push(`@group(0) @binding(${b++}) var<storage, read> info: array<i32>;`);
  return lines.join('\n');
}

// ---- concat

/**
 * The output is `outer` rows of width W = total·inner (inner = elements after `axis`); input k
 * fills columns [start_k·inner, (start_k + size_k)·inner) of every row. One dispatch per input,
 * so any number of inputs works within the binding limit; empty inputs launch nothing.
 *
 * Meta: [n, w, W, column offset, strided read plan of the input...].
 */
const concatKernel: GpuKernel = (gpu, inputs, [out], { axis }: { axis: number }) => {
  const inner = sizeOf(out.shape.slice(axis + 1));
  const width = out.shape[axis] * inner;
  let start = 0;
  for (const x of inputs) {
    const n = sizeOf(x.shape);
    const w = x.shape[axis] * inner;
    if (n > 0) {
      const plan = stridedIndex('at0', x, 4);
      gpu.dispatch({
        op: 'concat',
        key: `concat|${plan.key}`,
        code: () => `${declare([['in0', 'u32']], [['out0', 'u32']])}
${plan.fn}
${entry()}
  if (i >= u32(info[0])) { return; }
  let w = u32(info[1]);
  out0[(i / w) * u32(info[2]) + u32(info[3]) + i % w] = in0[at0(i)];
}`,
        inputs: [x.storage],
        outputs: [out.storage],
        meta: [n, w, width, start * inner, ...plan.meta],
        workgroups: workgroupsFor(n),
      });
    }
    start += x.shape[axis];
  }
};

// ---- pad

/** The 32-bit word that stores `value` in `dtype`, converted exactly as a typed-array store on the CPU backend. */
function storedWord(dtype: DType, value: number): number {
  switch (storageType(dtype)) {
    case 'f32':
      return new Int32Array(new Float32Array([value]).buffer)[0];
    case 'i32':
      return new Int32Array([value])[0];
    default:
      return new Uint8Array([value])[0]; // uint8 and bool are byte arrays on the CPU
  }
}

/**
 * One thread per output element: inside the window it reads x through x's strides, elsewhere it
 * writes the pad value's bit pattern.
 *
 * Meta: [n, value word, x offset, then per dim d: out shape, pad before, x shape, x stride].
 */
const padKernel: GpuKernel = (gpu, [x], [out], { pads, value }: { pads: [number, number][]; value: number }) => {
  const n = sizeOf(out.shape);
  const r = out.shape.length;
  const meta = [n, storedWord(out.dtype, value), x.offset];
  for (let d = 0; d < r; d++) meta.push(out.shape[d], pads[d][0], x.shape[d], x.strides[d]);
  const dims: string[] = [];
  for (let d = r - 1; d >= 0; d--) {
    const b = 3 + 4 * d;
    dims.push(`  { let n = u32(info[${b}]); let c = i32(rem % n) - info[${b + 1}]; rem = rem / n;
    inside = inside && c >= 0 && c < info[${b + 2}]; off += c * info[${b + 3}]; }`);
  }
  gpu.dispatch({
    op: 'pad',
    key: `pad|${r}`,
    code: () => `${declare([['in0', 'u32']], [['out0', 'u32']])}
${entry()}
  if (i >= u32(info[0])) { return; }
  var rem = i;
  var off = info[2];
  var inside = true;
${dims.join('\n')}
  if (inside) { out0[i] = in0[u32(off)]; } else { out0[i] = bitcast<u32>(info[1]); }
}`,
    inputs: [x.storage],
    outputs: [out.storage],
    meta,
    workgroups: workgroupsFor(n),
  });
};

// ---- index errors

/**
 * Words of the per-backend error record: [reported, n − position of the first bad index, its
 * value, op code, axis, dim size, rank, shape...]. Word 1 is an atomicMax of n − position, so the
 * smallest position wins.
 */
const ERR_HEAD = 7;
const ERR_SHAPE = 64;
const ERR_WORDS = ERR_HEAD + ERR_SHAPE;
const OPS = ['', 'gather', 'scatterAdd'];

interface ErrorState {
  readonly storage: GpuStorage;
  /** Whether an index kernel ran since the last check. */
  dirty: boolean;
}

const errorStates = new WeakMap<WebGPUBackend, ErrorState>();

/** The backend's error buffer (zero = no error), created on first use and marked as written. */
function errorBuffer(gpu: WebGPUBackend): GpuStorage {
  let state = errorStates.get(gpu);
  if (!state) {
    const bytes = ERR_WORDS * 4;
    // created directly: an internal buffer, not an allocation of the backend's memory accounting
    const buffer = gpu.device.createBuffer({
      size: bytes,
      usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST,
      label: 'index errors',
    });
    state = { storage: { buffer, size: ERR_WORDS, bytes }, dirty: false };
    errorStates.set(gpu, state);
  }
  state.dirty = true;
  return state.storage;
}

/** WGSL that records position `pos` of `n` as out of range unless an earlier op already reported one. */
const REPORT_WGSL = `fn report(pos: u32, n: u32) {
  if (atomicLoad(&err[0]) == 0u) { atomicMax(&err[1], n - pos); }
}`;

/**
 * After an index kernel: one thread turns a new record (word 1 set, word 0 clear) into a full one,
 * reading the bad index's value and storing what the message needs. A record already reported by
 * an earlier op is left alone.
 *
 * Meta: [index size, op code, axis, dim size, rank, shape (at most ERR_SHAPE dims)..., read plan of index...].
 */
function finishReport(gpu: WebGPUBackend, op: string, index: GpuView, x: { shape: readonly number[] }, axis: number, err: GpuStorage): void {
  const shape = x.shape.slice(0, ERR_SHAPE);
  const head = [sizeOf(index.shape), OPS.indexOf(op), axis, x.shape[axis], x.shape.length, ...shape];
  const plan = stridedIndex('at0', index, head.length);
  gpu.dispatch({
    op,
    key: `indexReport|${head.length}|${plan.key}`,
    code: () => `${declare([['in0', 'i32']], [['err', 'atomic<u32>']])}
${plan.fn}
@compute @workgroup_size(1)
fn main() {
  if (atomicLoad(&err[0]) != 0u) { return; }
  let key = atomicLoad(&err[1]);
  if (key == 0u) { return; }
  atomicStore(&err[0], 1u);
  atomicStore(&err[2], bitcast<u32>(in0[at0(u32(info[0]) - key)]));
  let words = 5 + min(info[4], ${ERR_SHAPE});
  for (var k = 1; k < words; k++) { atomicStore(&err[2 + k], bitcast<u32>(info[k])); }
}`,
    inputs: [index.storage],
    outputs: [err],
    meta: [...head, ...plan.meta],
    workgroups: [1, 1, 1],
  });
}

/** The error of a record read back from the GPU, or null if it holds none. */
function recordError(words: Int32Array): TensorError | null {
  if (words[0] === 0) return null;
  const [, , value, code, axis, dim, rank] = words;
  const shape = Array.from(words.subarray(ERR_HEAD, ERR_HEAD + Math.min(rank, ERR_SHAPE)));
  const shown = rank > ERR_SHAPE ? `${fmt(shape).slice(0, -1)}, ...)` : fmt(shape);
  return new TensorError(OPS[code] ?? 'gather', `index ${value} is out of range for dim ${axis} of size ${dim} (input ${shown})`);
}

/**
 * Starts checking for out-of-range indices of the gather and scatterAdd ops encoded so far: encodes
 * a copy of the error record (and its reset, so each error is reported once) into the backend's
 * current command encoder. Returns null when no such op ran since the last check; otherwise a
 * function to await after the work is submitted (`gpu.flush()`), which throws the error the CPU
 * backend would have thrown, e.g. `gather: index 5 is out of range for dim 1 of size 3 (input (2, 3))`.
 */
export function beginIndexCheck(gpu: WebGPUBackend): (() => Promise<void>) | null {
  const state = errorStates.get(gpu);
  if (!state?.dirty) return null;
  state.dirty = false;
  const bytes = state.storage.bytes;
  const staging = gpu.acquireStaging(bytes);
  const encoder = gpu.encoder();
  encoder.copyBufferToBuffer(state.storage.buffer, 0, staging, 0, bytes);
  encoder.clearBuffer(state.storage.buffer);
  return async () => {
    try {
      await staging.mapAsync(GPUMapMode.READ, 0, bytes);
    } catch (e) {
      gpu.releaseStaging(staging, true);
      throw e;
    }
    const words = new Int32Array(staging.getMappedRange(0, bytes).slice(0));
    staging.unmap();
    gpu.releaseStaging(staging);
    const error = recordError(words);
    if (error) throw error;
  };
}

/** Submits pending work and throws if an index of a gather or scatterAdd encoded so far was out of range. */
export async function checkIndexErrors(gpu: WebGPUBackend): Promise<void> {
  const finish = beginIndexCheck(gpu);
  gpu.flush();
  await finish?.();
}

// ---- gather

/**
 * One thread per output element (= element of index): out[c] = x[c with c[axis] = index[c]].
 * A bad index writes 0 and is reported.
 *
 * Meta: [n, dim size, x offset, index offset, then per dim d: index shape, x stride, index stride].
 */
const gatherKernel: GpuKernel = (gpu, [x, index], [out], { axis }: { axis: number }) => {
  const n = sizeOf(index.shape);
  const r = index.shape.length;
  const meta = [n, x.shape[axis], x.offset, index.offset];
  for (let d = 0; d < r; d++) meta.push(index.shape[d], x.strides[d], index.strides[d]);
  const dims: string[] = [];
  for (let d = r - 1; d >= 0; d--) {
    const b = 4 + 3 * d;
    const xs = d === axis ? '' : ` xo += c * info[${b + 1}];`;
    dims.push(`  { let n = u32(info[${b}]); let c = i32(rem % n); rem = rem / n; io += c * info[${b + 2}];${xs} }`);
  }
  const err = errorBuffer(gpu);
  gpu.dispatch({
    op: 'gather',
    key: `gather|${r}|${axis}`,
    code: () => `${declare([['in0', 'u32'], ['in1', 'i32']], [['out0', 'u32'], ['err', 'atomic<u32>']])}
${REPORT_WGSL}
${entry()}
  let n = u32(info[0]);
  if (i >= n) { return; }
  var rem = i;
  var xo = info[2];
  var io = info[3];
${dims.join('\n')}
  let dim = info[1];
  var v = in1[u32(io)];
  if (v < 0) { v += dim; }
  if (v < 0 || v >= dim) {
    report(i, n);
    out0[i] = 0u;
    return;
  }
  out0[i] = in0[u32(xo + v * info[${4 + 3 * axis + 1}])];
}`,
    inputs: [x.storage, index.storage],
    outputs: [out.storage, err],
    meta,
    workgroups: workgroupsFor(n),
  });
  finishReport(gpu, 'gather', index, x, axis, err);
};

// ---- scatterAdd

/**
 * One thread per output element, without atomics: out[c] = x[c] + the sum of src[c with c[axis] = k]
 * over k = 0, 1, ... where index[c with c[axis] = k] names c[axis]. Adding in increasing k is the
 * CPU's order of addition, so float32 results are equal, not just close. The threads with
 * c[axis] = 0 report bad indices (each is read by every thread of its row).
 *
 * uint8 and bool are byte arrays on the CPU (the sum wraps mod 256), int32 wraps mod 2^32.
 *
 * Meta: [n, dim size, index size, K = index.shape[axis], x offset, index offset, src offset,
 * then per dim d: x shape, index shape, x stride, index stride, src stride, contiguous index stride].
 */
const scatterAddKernel: GpuKernel = (gpu, [x, index, src], [out], { axis }: { axis: number }) => {
  const n = sizeOf(x.shape);
  const r = x.shape.length;
  const t = storageType(x.dtype);
  const contiguous = contiguousStrides(index.shape);
  const meta = [n, x.shape[axis], sizeOf(index.shape), index.shape[axis], x.offset, index.offset, src.offset];
  for (let d = 0; d < r; d++) meta.push(x.shape[d], index.shape[d], x.strides[d], index.strides[d], src.strides[d], contiguous[d]);
  const base = (d: number) => 7 + 6 * d;
  const dims: string[] = [];
  for (let d = r - 1; d >= 0; d--) {
    const b = base(d);
    const rest =
      d === axis
        ? ' ca = c;'
        : ` inRange = inRange && c < info[${b + 1}]; io += c * info[${b + 3}]; so += c * info[${b + 4}]; pos += c * info[${b + 5}];`;
    dims.push(`  { let n = u32(info[${b}]); let c = i32(rem % n); rem = rem / n; xo += c * info[${b + 2}];${rest} }`);
  }
  const b = base(axis);
  const err = errorBuffer(gpu);
  gpu.dispatch({
    op: 'scatterAdd',
    key: `scatterAdd|${t}|${r}|${axis}`,
    code: () => `${declare([['in0', t], ['in1', 'i32'], ['in2', t]], [['out0', t], ['err', 'atomic<u32>']])}
${REPORT_WGSL}
${entry()}
  if (i >= u32(info[0])) { return; }
  var rem = i;
  var xo = info[4];
  var io = info[5];
  var so = info[6];
  var pos = 0;
  var ca = 0;
  var inRange = true;
${dims.join('\n')}
  var acc = in0[u32(xo)];
  if (inRange) {
    let dim = info[1];
    let count = info[3];
    let istep = info[${b + 3}];
    let sstep = info[${b + 4}];
    let pstep = info[${b + 5}];
    for (var k = 0; k < count; k++) {
      var v = in1[u32(io + k * istep)];
      if (v < 0) { v += dim; }
      if (v == ca) {
        acc = acc + in2[u32(so + k * sstep)];
      } else if (ca == 0 && (v < 0 || v >= dim)) {
        report(u32(pos + k * pstep), u32(info[2]));
      }
    }
  }
  out0[i] = ${t === 'u32' ? 'acc & 255u' : 'acc'};
}`,
    inputs: [x.storage, index.storage, src.storage],
    outputs: [out.storage, err],
    meta,
    workgroups: workgroupsFor(n),
  });
  finishReport(gpu, 'scatterAdd', index, x, axis, err);
};

export const MOVEMENT_KERNELS: Record<string, GpuKernel> = {
  concat: concatKernel,
  pad: padKernel,
  gather: gatherKernel,
  scatterAdd: scatterAddKernel,
};

/** Helpers that generate WGSL: element types, bindings, thread indices and strided reads. */
import type { DType } from '@ml/tensor';
import { contiguousStrides } from '@ml/tensor';
import type { GpuView } from './backend.js';

/** The WGSL type a dtype is stored as: bool and uint8 use one u32 per element. */
export function storageType(dtype: DType): 'f32' | 'i32' | 'u32' {
  if (dtype === 'float32') return 'f32';
  if (dtype === 'int32') return 'i32';
  if (dtype === 'float64') throw new Error('webgpu: float64 is not supported on the GPU');
  return 'u32';
}

/** `var<storage>` declarations: inputs read-only, outputs read-write, then `info` (the i32 parameters) if used. */
export function bindings(inputs: readonly DType[], outputs: readonly DType[], meta: boolean): string {
  const lines: string[] = [];
  let b = 0;
  inputs.forEach((d, i) => lines.push(`@group(0) @binding(${b++}) var<storage, read> in${i}: array<${storageType(d)}>;`));
  outputs.forEach((d, i) => lines.push(`@group(0) @binding(${b++}) var<storage, read_write> out${i}: array<${storageType(d)}>;`));
  if (meta) lines.push(`@group(0) @binding(${b++}) var<storage, read> info: array<i32>;`);
  return lines.join('\n');
}

/** The compute entry point header with a linear thread index `i` (2-D dispatches folded in). */
export function entry(workgroupSize = 64): string {
  return `@compute @workgroup_size(${workgroupSize})
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = gid.x + gid.y * nwg.x * ${workgroupSize}u;`;
}

/** Whether a view reads its buffer densely from `offset` in row-major order. */
export function isDenseView(v: GpuView): boolean {
  const c = contiguousStrides(v.shape);
  return v.shape.every((d, k) => d === 1 || v.strides[k] === c[k]);
}

/**
 * A strided read plan: meta words and a WGSL function `name(i)` mapping the row-major index i of
 * `shape` to an element index of the view's buffer. Dense views reduce to `offset + i`.
 *
 * Meta layout at `base`: [offset, shape..., strides...] (only offset when dense).
 */
export function stridedIndex(name: string, v: GpuView, base: number): { fn: string; meta: number[]; key: string } {
  if (isDenseView(v)) {
    return { fn: `fn ${name}(i: u32) -> u32 { return u32(info[${base}]) + i; }`, meta: [v.offset], key: 'd' };
  }
  const r = v.shape.length;
  const lines = [`fn ${name}(i: u32) -> u32 {`, `  var rem = i;`, `  var off = info[${base}];`];
  for (let d = r - 1; d >= 0; d--) {
    lines.push(`  { let n = u32(info[${base + 1 + d}]); off += i32(rem % n) * info[${base + 1 + r + d}]; rem = rem / n; }`);
  }
  lines.push('  return u32(off);', '}');
  return { fn: lines.join('\n'), meta: [v.offset, ...v.shape, ...v.strides], key: `s${r}` };
}

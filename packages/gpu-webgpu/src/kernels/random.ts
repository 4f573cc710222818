/**
 * WGSL kernels of the random primitives: Threefry-2x32-20 per element, with the counter and key
 * handling of @ml/tensor's random/threefry.ts, so every draw equals the CPU backend's bit for bit.
 */
import type { GpuKernel } from '../backend.js';
import { workgroupsFor } from '../backend.js';
import { entry } from '../wgsl.js';

/** Rotation distances of Threefry-2x32 (Random123's R_32x2_*), cycled every 8 rounds. */
const ROTATIONS = [13, 15, 26, 6, 17, 29, 16, 24] as const;

/**
 * `threefry2x32(k0, k1, c0, c1) -> vec2u`: 20 rounds with a key injection after every 4, unrolled.
 * All arithmetic is on u32, which wraps modulo 2^32 like the CPU version's `>>> 0`.
 */
export const THREEFRY_WGSL: string = (() => {
  const ks = ['k0', 'k1', 'k2'];
  const lines = [
    'fn threefry2x32(k0: u32, k1: u32, c0: u32, c1: u32) -> vec2u {',
    '  let k2 = k0 ^ k1 ^ 0x1bd11bdau;',
    '  var x0 = c0 + k0;',
    '  var x1 = c1 + k1;',
  ];
  for (let s = 1; s <= 5; s++) {
    const rot = s % 2 === 1 ? 0 : 4; // injections alternate between the two halves of ROTATIONS
    for (let r = 0; r < 4; r++) {
      const d = ROTATIONS[rot + r];
      lines.push(`  x0 = x0 + x1; x1 = ((x1 << ${d}u) | (x1 >> ${32 - d}u)) ^ x0;`);
    }
    lines.push(`  x0 = x0 + ${ks[s % 3]}; x1 = x1 + ${ks[(s + 1) % 3]} + ${s}u;`);
  }
  lines.push('  return vec2u(x0, x1);', '}');
  return lines.join('\n');
})();

/**
 * One thread per element i: bits = x0 ^ x1 of threefry(key, (hi32(i), lo32(i))). Buffers hold at
 * most 2^32 elements, so hi32(i) is always 0. `store` turns `bits` into the stored word.
 */
function randomKernel(op: string, store: string, outType: 'f32' | 'u32'): GpuKernel {
  return (gpu, _inputs, [out], { key }: { key: readonly [number, number] }) => {
    const n = out.shape.reduce((a, b) => a * b, 1);
    gpu.dispatch({
      op,
      key: `${op}|threefry`,
      code: () => `@group(0) @binding(0) var<storage, read_write> out0: array<${outType}>;
@group(0) @binding(1) var<storage, read> info: array<i32>;
${THREEFRY_WGSL}
${entry()}
  if (i >= u32(info[0])) { return; }
  let x = threefry2x32(bitcast<u32>(info[1]), bitcast<u32>(info[2]), 0u, i);
  let bits = x.x ^ x.y;
  out0[i] = ${store};
}`,
      inputs: [],
      outputs: [out.storage],
      meta: [n, key[0] | 0, key[1] | 0],
      workgroups: workgroupsFor(n),
    });
  };
}

// float32 uniform on [0, 1): the top 23 bits become the mantissa of a float in [1, 2), minus 1 (exact)
const uniform32 = randomKernel('randomUniform', 'bitcast<f32>((bits >> 9u) | 0x3f800000u) - 1.0', 'f32');
// int32 bits: the same 32-bit word, stored through a u32 view of the i32 buffer
const bits32 = randomKernel('randomBits', 'bits', 'u32');

export const RANDOM_KERNELS: Record<string, GpuKernel> = {
  randomUniform: (gpu, inputs, outputs, params) => {
    const dtype = outputs[0].dtype;
    if (dtype !== 'float32') throw new Error(`randomUniform: backend "webgpu" has no kernel for dtype ${dtype}`);
    uniform32(gpu, inputs, outputs, params);
  },
  randomBits: (gpu, inputs, outputs, params) => bits32(gpu, inputs, outputs, params),
};

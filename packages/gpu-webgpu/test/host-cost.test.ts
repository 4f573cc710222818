// What an op costs the host: once warm, queueing ops and reading results creates no GPU buffers
// (dispatch parameters go to one shared buffer per batch, staging buffers are reused), every
// dispatch still reads its own parameters when a batch holds many, and parameter blocks larger
// than the shared buffer grow it. Results are checked against float64 references.
import * as T from '@ml/tensor';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { GpuStorage } from '../src/index.js';
import { WebGPUBackend, webgpu } from '../src/index.js';

let gpu: WebGPUBackend;
beforeAll(async () => {
  gpu = await webgpu();
});
afterAll(() => {
  expect(T.memory(gpu)).toMatchObject({ tensors: 0, buffers: 0, bytes: 0 });
  gpu.destroy();
});

/** Reads a GPU buffer of `n` int32 words. */
async function readWords(s: GpuStorage): Promise<Int32Array> {
  return (await gpu.read(s, 'int32')) as Int32Array;
}

/** A kernel that copies its `info` words 1..count into out0, count = info[0]. */
function copyParams(out: GpuStorage, words: number[]): void {
  gpu.dispatch({
    op: 'copyParams',
    key: 'copyParams|test',
    code: () => `@group(0) @binding(0) var<storage, read_write> out0: array<i32>;
@group(0) @binding(1) var<storage, read> info: array<i32>;
@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3u) {
  let i = gid.x;
  if (i < u32(info[0])) { out0[i] = info[i + 1u]; }
}`,
    inputs: [],
    outputs: [out],
    meta: [words.length, ...words],
    workgroups: [Math.ceil(words.length / 64), 1, 1],
  });
}

describe('host cost per op', () => {
  it('once warm, queued adds and reads create no GPU buffers', async () => {
    const a = T.tensor(Float32Array.from({ length: 1000 }, (_, i) => i / 7), { backend: gpu });
    const b = T.tensor(Float32Array.from({ length: 1000 }, (_, i) => 1 - i / 3), { backend: gpu });
    const round = async () => {
      for (let i = 0; i < 300; i++) T.add(a, b).dispose(); // several batches of dispatches
      const y = T.add(a, b);
      const got = await y.data();
      y.dispose();
      return got;
    };
    await round(); // warm: pipelines, pooled buffers, the staging buffer
    const spy = vi.spyOn(gpu.device, 'createBuffer');
    try {
      const got = await round();
      for (let i = 0; i < 1000; i++) expect(got[i]).toBeCloseTo(i / 7 + (1 - i / 3), 4);
      expect(spy).not.toHaveBeenCalled();
    } finally {
      spy.mockRestore();
      a.dispose();
      b.dispose();
    }
  });

  it('every dispatch of a long batch reads its own parameters', async () => {
    // 200 dispatches with different parameter blocks, queued before any read
    const n = 200;
    const outs = Array.from({ length: n }, (_, k) => gpu.allocate('int32', 3 + (k % 5)));
    const want = outs.map((o, k) => Array.from({ length: o.size }, (_, j) => k * 1000 + j * 7 - 3));
    outs.forEach((o, k) => copyParams(o, want[k]));
    const got = await Promise.all(outs.map(readWords));
    got.forEach((g, k) => expect(Array.from(g), `dispatch ${k}`).toEqual(want[k]));
    for (const o of outs) gpu.free(o);
  });

  it('parameter blocks larger than the shared buffer fill it, submit, and grow it', async () => {
    // 12 blocks of 6,000 words (24 KB each: two fit the 64 KB buffer), then one of 40,000 words
    const sizes = [...Array.from({ length: 12 }, () => 6000), 40_000, 5];
    const outs = sizes.map((s) => gpu.allocate('int32', s));
    const want = sizes.map((s, k) => Array.from({ length: s }, (_, j) => ((j * 2654435761) ^ k) | 0));
    outs.forEach((o, k) => copyParams(o, want[k]));
    const got = await Promise.all(outs.map(readWords));
    got.forEach((g, k) => {
      const bad = want[k].findIndex((w, j) => g[j] !== w);
      expect(bad, `block ${k}: first wrong word`).toBe(-1);
    });
    for (const o of outs) gpu.free(o);
    // ordinary ops still run after the buffer grew
    const x = T.tensor([1.5, -2, 3], { backend: gpu });
    const y = T.scope(() => x.mul(2).add(1));
    expect(Array.from(await y.data())).toEqual([4, -3, 7]);
    x.dispose();
    y.dispose();
  });

  it('reads of many sizes at once, repeated, each return their own data', async () => {
    const sizes = [1, 2, 63, 64, 65, 100, 255, 1000, 4096, 70_000, 1, 64];
    for (let round = 0; round < 3; round++) {
      const xs = T.scope(() => sizes.map((s, k) => T.arange(0, s, 1, { dtype: 'int32', backend: gpu }).mul(k + round + 1)));
      const got = await Promise.all(xs.map((x) => x.data()));
      got.forEach((g, k) => {
        const f = k + round + 1;
        const bad = Array.from(g).findIndex((v, i) => v !== i * f);
        expect(g.length, `size ${sizes[k]}`).toBe(sizes[k]);
        expect(bad, `size ${sizes[k]}, round ${round}: first wrong element`).toBe(-1);
      });
      for (const x of xs) x.dispose();
    }
  });
});

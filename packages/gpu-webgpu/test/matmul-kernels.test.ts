/**
 * The matmul, im2col and col2im kernels against the CPU backend: every load layout of the tiled
 * matmul (vec4 along either dim, scalar, misaligned, negative strides, stride-0 batches), each
 * tile shape, integer dtypes, and conv2d / pooling through the public ops.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Backend, DType, Tensor, TypedArray } from '@ml/tensor';
import { apply, avgPool2d, col2im, conv2d, createCpuBackend, im2col, matmul, maxPool2d, permute, tensor, transpose } from '@ml/tensor';
import type { WebGPUBackend } from '../src/index.js';
import { webgpu } from '../src/index.js';
import { GPU_KERNELS } from '../src/kernels/index.js';
import { rng } from './rng.js';

let gpu: WebGPUBackend;
const cpu = createCpuBackend();

beforeAll(async () => {
  gpu = await webgpu();
});
afterAll(() => gpu?.destroy());


let seed = 1;
function values(n: number, dtype: DType): TypedArray {
  const r = rng(seed++);
  if (dtype === 'float32') return Float32Array.from({ length: n }, () => r() * 2 - 1);
  if (dtype === 'int32') return Int32Array.from({ length: n }, () => Math.floor(r() * 101) - 50);
  return Uint8Array.from({ length: n }, () => Math.floor(r() * 256));
}

/** The same data on both backends. */
interface Pair {
  cpu: Tensor;
  gpu: Tensor;
}
function pair(shape: number[], dtype: DType = 'float32'): Pair {
  const data = values(shape.reduce((a, b) => a * b, 1), dtype);
  const make = (backend: Backend) => tensor(data, { shape, dtype, backend });
  return { cpu: make(cpu), gpu: make(gpu) };
}

/** Runs `f` on both backends and compares within `tol` (absolute, plus the same relative). */
async function same(inputs: Pair[], f: (...ts: Tensor[]) => Tensor, tol: number): Promise<void> {
  const want = f(...inputs.map((p) => p.cpu));
  const got = f(...inputs.map((p) => p.gpu));
  expect(got.shape).toEqual(want.shape);
  expect(got.dtype).toBe(want.dtype);
  const [g, w] = [await got.data(), await want.data()];
  let worst = 0;
  let at = -1;
  for (let i = 0; i < w.length; i++) {
    const a = g[i];
    const b = w[i];
    if (Object.is(a, b) || (Number.isNaN(a) && Number.isNaN(b))) continue;
    const err = Math.abs(a - b) / (1 + Math.abs(b));
    if (!(err <= worst)) [worst, at] = [err, i];
  }
  if (!(worst <= tol)) expect.fail(`max error ${worst} > ${tol} at ${at}: gpu ${g[at]}, cpu ${w[at]} (shape ${got.shape.join('×')})`);
  got.dispose();
  want.dispose();
}

/** float32 tolerance for sums of K products of values in [-1, 1]. */
const tolK = (k: number) => 4e-7 * (k + 4);

describe('matmul float32', () => {
  const shapes: [number, number, number][] = [
    [1, 1, 1],
    [1, 37, 1],
    [1, 64, 300], // one row (thin tiles), vec4 everywhere
    [1, 33, 70],
    [70, 33, 1], // one column
    [64, 1, 64], // outer product
    [17, 33, 65],
    [16, 16, 16], // 256 outputs: the simple kernel
    [16, 16, 17], // thin tiles
    [3, 33, 100],
    [17, 1, 17],
    [20, 12, 24],
    [128, 64, 96],
    [100, 200, 130],
    [65, 5, 67],
  ];
  for (const [m, k, n] of shapes) {
    it(`${m}×${k} @ ${k}×${n}`, async () => {
      await same([pair([m, k]), pair([k, n])], matmul, tolK(k));
    });
  }

  it('K = 0 gives zeros', async () => {
    await same([pair([3, 0]), pair([0, 5])], matmul, 0);
  });

  describe('transposed and strided operands', () => {
    const cases: [number, number, number][] = [
      [64, 32, 48], // every dim a multiple of 4: vec4 loads along either dim
      [33, 20, 47], // odd M, N: scalar loads where the odd dim is the fast one
      [36, 19, 44], // odd K
      [5, 8, 3],
    ];
    for (const [m, k, n] of cases) {
      it(`x·Wᵀ ${m}×${k}×${n}`, async () => {
        await same([pair([m, k]), pair([n, k])], (a, w) => matmul(a, transpose(w)), tolK(k));
      });
      it(`Aᵀ·B ${m}×${k}×${n}`, async () => {
        await same([pair([k, m]), pair([k, n])], (at, b) => matmul(transpose(at), b), tolK(k));
      });
      it(`Aᵀ·Bᵀ ${m}×${k}×${n}`, async () => {
        await same([pair([k, m]), pair([n, k])], (at, bt) => matmul(transpose(at), transpose(bt)), tolK(k));
      });
    }
    it('misaligned offsets and row strides (column slices)', async () => {
      await same([pair([40, 37]), pair([33, 45])], (a, b) => matmul(a.slice(':, 1:33'), b.slice('1:, 1:41')), tolK(32));
    });
    it('aligned slices keep vec4 loads', async () => {
      await same([pair([40, 40]), pair([36, 48])], (a, b) => matmul(a.slice('4:, 4:36'), b.slice('4:, 8:44')), tolK(32));
    });
    it('negative strides', async () => {
      await same([pair([24, 16]), pair([16, 20])], (a, b) => matmul(a.slice('::-1, :'), b.slice(':, ::-1')), tolK(16));
      await same([pair([24, 16]), pair([16, 20])], (a, b) => matmul(a.slice(':, ::-1'), b.slice('::-1, :')), tolK(16));
    });
    it('column-strided operands (every other column)', async () => {
      await same([pair([32, 64]), pair([32, 80])], (a, b) => matmul(a.slice(':, ::2'), b.slice(':, ::2')), tolK(32));
    });
  });

  describe('batches', () => {
    it('dense batch', async () => {
      await same([pair([3, 20, 24]), pair([3, 24, 28])], matmul, tolK(24));
    });
    it('broadcast batch (stride 0 on either operand)', async () => {
      await same([pair([4, 18, 24]), pair([24, 30])], matmul, tolK(24));
      await same([pair([18, 24]), pair([4, 24, 30])], matmul, tolK(24));
      await same([pair([2, 1, 9, 12]), pair([1, 3, 12, 7])], matmul, tolK(12));
    });
    it('permuted batch dims (non-mergeable strides)', async () => {
      await same([pair([20, 3, 2, 16]), pair([3, 2, 16, 12])], (a, b) => matmul(permute(a, [2, 1, 0, 3]), transpose(b, 0, 1)), tolK(16));
    });
    it('batched transposed weights (x·Wᵀ per item)', async () => {
      await same([pair([5, 33, 40]), pair([5, 24, 40])], (x, w) => matmul(x, transpose(w)), tolK(40));
    });
    it('many tiny matrices (70000 × 1×3 @ 3×2)', async () => {
      await same([pair([70000, 1, 3]), pair([70000, 3, 2])], matmul, tolK(3));
    });
  });

  describe('large outputs and batches of tiles', () => {
    it('32 × 256×40×256, dense', async () => {
      await same([pair([32, 256, 40]), pair([32, 40, 256])], matmul, tolK(40));
    });
    it('30 × 257×19×259, ragged edges', async () => {
      await same([pair([30, 257, 19]), pair([30, 19, 259])], matmul, tolK(19));
    });
    it('32 × 256×36×256, both operands transposed', async () => {
      await same([pair([32, 36, 256]), pair([32, 256, 36])], (at, bt) => matmul(transpose(at), transpose(bt)), tolK(36));
    });
    it('1024×300×1030 with a broadcast weight', async () => {
      await same([pair([1030, 300]), pair([300, 1024])], (a, b) => matmul(a.slice('3:, :'), b), tolK(300));
    });
  });

  describe('every tile shape, forced (params.tile), whatever the size would choose', () => {
    // the CPU backend ignores the tile: it is the reference
    const tiled = (tile: string) => (a: Tensor, b: Tensor) => apply('matmul', [a, b], { tile }, a.backend)[0];
    it('the tile reaches the kernel: an unknown one is refused', () => {
      const [a, b] = [pair([20, 8]), pair([8, 20])];
      expect(() => tiled('nope')(a.gpu, b.gpu)).toThrow('matmul: unknown tile shape "nope" (one of L, M, T)');
      for (const t of [a, b]) [t.cpu, t.gpu].forEach((x) => x.dispose());
    });
    for (const tile of ['L', 'M', 'T']) {
      it(`${tile}: ragged edges, vec4 and scalar loads`, async () => {
        await same([pair([130, 37]), pair([37, 70])], tiled(tile), tolK(37));
        await same([pair([131, 40]), pair([40, 67])], tiled(tile), tolK(40));
      });
      it(`${tile}: transposed operands and misaligned slices`, async () => {
        await same([pair([36, 132]), pair([68, 36])], (at, bt) => tiled(tile)(transpose(at), transpose(bt)), tolK(36));
        await same([pair([130, 41]), pair([41, 66])], (a, b) => tiled(tile)(a.slice('1:, 1:'), b.slice('1:, :')), tolK(40));
      });
      it(`${tile}: a batch with a broadcast operand`, async () => {
        await same([pair([3, 65, 20]), pair([1, 20, 131])], (a, b) => tiled(tile)(a, b.expand([3, 20, 131])), tolK(20));
      });
    }
  });

  it('NaN and infinities propagate like on the CPU', async () => {
    const a = pair([8, 8]);
    const b = pair([8, 8]);
    const bad = (t: Tensor) => {
      const d = Float32Array.from([NaN, Infinity, -Infinity, 1, 2, 3, 4, 5]);
      return tensor(d, { shape: [1, 8], backend: t.backend });
    };
    await same([a, b], (x, y) => matmul(x.slice(':1, :').add(bad(x)).reshape([1, 8]), y), 1e-6);
  });
});

describe('matmul integers', () => {
  it('int32 (exact)', async () => {
    await same([pair([17, 33], 'int32'), pair([33, 9], 'int32')], matmul, 0);
    await same([pair([3, 12, 7], 'int32'), pair([9, 7], 'int32')], (a, b) => matmul(a, transpose(b)), 0);
  });
  it('uint8 wraps mod 256', async () => {
    await same([pair([9, 40], 'uint8'), pair([40, 11], 'uint8')], matmul, 0);
  });
});

describe('im2col / col2im', () => {
  interface Win {
    kernel: [number, number];
    stride: [number, number];
    padding: [number, number];
    dilation: [number, number];
  }
  const windows: Win[] = [
    { kernel: [3, 3], stride: [1, 1], padding: [1, 1], dilation: [1, 1] },
    { kernel: [2, 3], stride: [2, 1], padding: [1, 0], dilation: [1, 2] },
    { kernel: [3, 3], stride: [2, 2], padding: [2, 2], dilation: [2, 2] },
    { kernel: [1, 1], stride: [1, 1], padding: [0, 0], dilation: [1, 1] },
    { kernel: [4, 2], stride: [3, 2], padding: [2, 1], dilation: [1, 3] },
    { kernel: [5, 5], stride: [1, 1], padding: [0, 0], dilation: [1, 1] },
  ];
  const sizes: [number, number][] = [[7, 9], [8, 8], [5, 13]];
  const name = (w: Win) => `k${w.kernel} s${w.stride} p${w.padding} d${w.dilation}`;
  const outSize = (s: [number, number], w: Win) =>
    [0, 1].map((a) => Math.floor((s[a] + 2 * w.padding[a] - w.dilation[a] * (w.kernel[a] - 1) - 1) / w.stride[a]) + 1);

  for (const w of windows) {
    it(`im2col ${name(w)}`, async () => {
      for (const [h, wd] of sizes) {
        await same([pair([2, 3, h, wd])], (x) => im2col(x, w), 0);
      }
    });
    it(`col2im ${name(w)}`, async () => {
      for (const [h, wd] of sizes) {
        const [oh, ow] = outSize([h, wd], w);
        const kk = w.kernel[0] * w.kernel[1];
        await same([pair([2, 3 * kk, oh * ow])], (c) => col2im(c, [h, wd], w), 1e-6);
      }
    });
  }

  it('im2col of a strided input, with −∞ padding', async () => {
    const w = windows[1];
    await same([pair([3, 2, 9, 7])], (x) => im2col(permute(x, [1, 0, 3, 2]), { ...w, padValue: -Infinity }), 0);
    await same([pair([2, 3, 9, 7])], (x) => im2col(x.slice(':, :, ::-1, 1:'), { ...w, padValue: -Infinity }), 0);
  });

  it('im2col of int32 and uint8, with padValue stored in the dtype', async () => {
    const w = windows[2];
    await same([pair([2, 3, 8, 8], 'int32')], (x) => im2col(x, { ...w, padValue: -2147483648 }), 0);
    await same([pair([2, 3, 8, 8], 'uint8')], (x) => im2col(x, { ...w, padValue: 7 }), 0);
  });

  it('col2im of a strided input and of int32', async () => {
    const w = windows[0];
    const [oh, ow] = outSize([6, 5], w);
    await same([pair([2, oh * ow, 27])], (c) => col2im(transpose(c, 1, 2), [6, 5], w), 1e-6);
    await same([pair([1, 18, oh * ow], 'int32')], (c) => col2im(c, [6, 5], w), 0);
  });
});

describe('conv2d and pooling through the public ops', () => {
  it('conv2d (padding, stride, dilation, bias, groups)', async () => {
    const x = pair([2, 4, 11, 9]);
    const w = pair([6, 4, 3, 3]);
    const bias = pair([6]);
    await same([x, w, bias], (a, b, c) => conv2d(a, b, c, { padding: 1 }), tolK(36));
    await same([x, w], (a, b) => conv2d(a, b, null, { stride: 2, padding: [2, 1], dilation: [2, 1] }), tolK(36));
    const wg = pair([6, 2, 3, 3]);
    await same([x, wg, bias], (a, b, c) => conv2d(a, b, c, { groups: 2, padding: 1 }), tolK(18));
    const wd = pair([4, 1, 3, 3]);
    await same([x, wd], (a, b) => conv2d(a, b, null, { groups: 4, stride: [1, 2] }), tolK(9));
  });

  it('conv2d at a CNN-like size', async () => {
    await same([pair([4, 16, 28, 28]), pair([32, 16, 3, 3])], (a, b) => conv2d(a, b, null, { padding: 1 }), tolK(144));
  });

  it.runIf(GPU_KERNELS.max !== undefined)('maxPool2d', async () => {
    const x = pair([2, 3, 10, 9]);
    await same([x], (t) => maxPool2d(t, 2), 0);
    await same([x], (t) => maxPool2d(t, 3, { stride: 2, padding: 1 }), 0);
    await same([x], (t) => maxPool2d(t, [3, 2], { stride: 1, padding: [1, 1], dilation: [2, 1] }), 0);
  });

  it.runIf(GPU_KERNELS.sum !== undefined)('avgPool2d', async () => {
    const x = pair([2, 3, 10, 9]);
    await same([x], (t) => avgPool2d(t, 2), 1e-6);
    await same([x], (t) => avgPool2d(t, 3, { stride: 2, padding: 1 }), 1e-6);
    await same([x], (t) => avgPool2d(t, 3, { stride: 2, padding: 1, countIncludePad: false }), 1e-6);
  });
});

describe('timing (SwiftShader: only a sanity check)', () => {
  for (const n of [512, 1024]) {
    it(`matmul ${n}²`, async () => {
      const a = tensor(values(n * n, 'float32'), { shape: [n, n], backend: gpu });
      const b = tensor(values(n * n, 'float32'), { shape: [n, n], backend: gpu });
      matmul(a, b).dispose(); // compile
      await gpu.sync();
      const runs = n >= 1024 ? 1 : 3;
      const t0 = performance.now();
      for (let r = 0; r < runs; r++) matmul(a, b).dispose();
      await gpu.sync();
      const ms = (performance.now() - t0) / runs;
      console.log(`matmul ${n}² on ${gpu.adapterName}: ${ms.toFixed(1)} ms, ${((2 * n ** 3) / ms / 1e6).toFixed(2)} GFLOP/s`);
      a.dispose();
      b.dispose();
    }, 300_000);
  }
});

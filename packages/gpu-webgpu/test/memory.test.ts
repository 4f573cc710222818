// Memory on the WebGPU backend over a long training run: a 2-layer MLP trained for 1,000 steps on
// the GPU (JAX style with valueAndGrad, and PyTorch style with backward) keeps the live tensors,
// buffers and bytes flat after warm-up, and disposing everything brings them back to zero. Freed
// buffers go to the backend's pool, which `memory()` does not count.
import { backward, noGrad, requiresGrad, valueAndGrad, zeroGrad } from '@ml/autograd';
import type { Tensor } from '@ml/tensor';
import * as T from '@ml/tensor';
import { describe, expect, it } from 'vitest';
import type { WebGPUBackend } from '../src/index.js';
import { webgpu } from '../src/index.js';

const { random } = T;

interface Params {
  w1: Tensor;
  b1: Tensor;
  w2: Tensor;
  b2: Tensor;
}

/** Live counts only (the backend's name aside). */
function live(gpu: WebGPUBackend): { tensors: number; buffers: number; bytes: number } {
  const { tensors, buffers, bytes } = T.memory(gpu);
  return { tensors, buffers, bytes };
}

/** Random regression data and initial parameters of an 8 → 16 → 1 MLP, all on `gpu`. */
function setup(gpu: WebGPUBackend) {
  const backend = gpu;
  const [kx, k1, k2] = random.split(random.key(7), 3);
  return T.scope(() => {
    const x = random.normal(kx, [64, 8], { backend });
    const y = x.slice(':, :4').sum(1, true).tanh().sub(x.slice(':, 4:').sum(1, true).mul(0.5).sin()); // (64, 1)
    const params: Params = {
      w1: random.normal(k1, [8, 16], { backend }).mul(Math.sqrt(2 / 8)),
      b1: T.zeros([16], { backend }),
      w2: random.normal(k2, [16, 1], { backend }).mul(Math.sqrt(1 / 16)),
      b2: T.zeros([1], { backend }),
    };
    return { x, y, params };
  });
}

const mse = (x: Tensor, y: Tensor, p: Params): Tensor => x.matmul(p.w1).add(p.b1).relu().matmul(p.w2).add(p.b2).sub(y).square().mean();

const STEPS = 1000;
const WARMUP = 10;
const LR = 0.1;

describe('a long training run on the GPU', () => {
  it(`${STEPS} steps of valueAndGrad + SGD keep memory flat; disposing everything returns it to zero`, async () => {
    const gpu = await webgpu();
    expect(live(gpu)).toEqual({ tensors: 0, buffers: 0, bytes: 0 });
    const { x, y, params: init } = setup(gpu);
    let params = init;
    const lossOf = (p: Params) => mse(x, y, p);
    const samples: { step: number; live: ReturnType<typeof live> }[] = [];
    const losses: number[] = [];
    for (let step = 1; step <= STEPS; step++) {
      const { next, loss } = T.scope(() => {
        const [value, g] = valueAndGrad(lossOf)(params);
        const next: Params = {
          w1: params.w1.sub(g.w1.mul(LR)),
          b1: params.b1.sub(g.b1.mul(LR)),
          w2: params.w2.sub(g.w2.mul(LR)),
          b2: params.b2.sub(g.b2.mul(LR)),
        };
        return { next, loss: value };
      });
      for (const t of Object.values(params)) t.dispose();
      params = next;
      // read now and then: that waits for the GPU, so queued work stays bounded
      if (step === 1 || step % 100 === 0) losses.push(await loss.item());
      loss.dispose();
      if (step === WARMUP || step % 100 === 0) samples.push({ step, live: live(gpu) });
    }
    const warm = samples[0];
    for (const s of samples) expect(s.live, `live memory at step ${s.step} (step ${warm.step}: ${JSON.stringify(warm.live)})`).toEqual(warm.live);
    // what is live: the data and the parameters, nothing from the steps
    expect(warm.live.tensors).toBe(2 + 4);
    expect(warm.live.bytes).toBe(4 * (64 * 8 + 64 + 8 * 16 + 16 + 16 + 1));
    // and it learned something
    expect(losses.at(-1)!).toBeLessThan(losses[0] / 4);

    for (const t of [x, y, ...Object.values(params)]) t.dispose();
    expect(live(gpu)).toEqual({ tensors: 0, buffers: 0, bytes: 0 });
    gpu.destroy();
  });

  it('PyTorch style (requiresGrad, backward, manual SGD) keeps memory flat too', async () => {
    const gpu = await webgpu();
    const { x, y, params } = setup(gpu);
    const names = Object.keys(params) as (keyof Params)[];
    for (const t of Object.values(params)) requiresGrad(t);
    const samples: ReturnType<typeof live>[] = [];
    const initial = T.scope(() => mse(x, y, params));
    const first = await initial.item();
    initial.dispose(); // frees the graph recorded for it too
    let last = first;
    for (let step = 1; step <= 200; step++) {
      T.scope(() => backward(mse(x, y, params))); // the step's graph is freed with its scope
      for (const name of names) {
        const p = params[name];
        const next = T.scope(() => noGrad(() => p.sub(p.grad!.mul(LR))));
        zeroGrad([p]);
        p.dispose();
        params[name] = requiresGrad(next);
      }
      if (step % 50 === 0) {
        const loss = T.scope(() => mse(x, y, params));
        last = await loss.item();
        loss.dispose();
        samples.push(live(gpu));
      }
    }
    for (const s of samples) expect(s).toEqual(samples[0]);
    expect(last).toBeLessThan(first);
    for (const t of [x, y, ...Object.values(params)]) t.dispose();
    expect(live(gpu)).toEqual({ tensors: 0, buffers: 0, bytes: 0 });
    gpu.destroy();
  });
});

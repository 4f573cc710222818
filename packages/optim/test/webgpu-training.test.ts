/**
 * The same training on two backends: models built from @ml/nn layers, trained with each optimizer
 * for a few steps on the CPU and on WebGPU (SwiftShader when there is no GPU), from identical
 * weights on identical batches. Losses and final weights must agree to float32 rounding: every
 * layer, loss and update is written in @ml/tensor primitives, so nothing backend-specific exists
 * above the kernels.
 *
 * No parameter here has a gradient that is zero in exact arithmetic (a conv bias right before
 * BatchNorm, or the key projection's bias, which softmax cancels): there both backends compute
 * rounding noise, and Adam or RMSprop turn noise of either sign into steps of size lr, so such a
 * parameter cannot agree between any two implementations.
 */
import { backward } from '@ml/autograd';
import { webgpu } from '@ml/gpu-webgpu';
import { BatchNorm2d, Conv2d, crossEntropy, Flatten, LayerNorm, Linear, LSTM, manualSeed, MaxPool2d, Module, MultiheadAttention, ReLU, Sequential } from '@ml/nn';
import { Adam, AdamW, RMSprop, SGD } from '@ml/optim';
import type { Optimizer } from '@ml/optim';
import type { Parameter } from '@ml/nn';
import { createCpuBackend, fromArray, memory, random, scope } from '@ml/tensor';
import type { Backend, Tensor } from '@ml/tensor';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

let gpu: Backend;
const cpu = createCpuBackend();
beforeAll(async () => {
  gpu = await webgpu();
}, 120_000);
afterAll(() => gpu?.dispose?.());

/** A small transformer-ish sequence model: LSTM → LayerNorm → attention → mean over time → Linear. */
class SeqNet extends Module {
  lstm = new LSTM(6, 8, { batchFirst: true });
  norm = new LayerNorm(8);
  attn = new MultiheadAttention(8, 2, { numKvHeads: 1, bias: false });
  head = new Linear(8, 3);
  forward(x: Tensor): Tensor {
    const [h] = this.lstm.forward(x) as [Tensor, unknown]; // (B, T, 8)
    const a = this.attn.forward(this.norm.forward(h), { causal: true }); // (B, T, 8)
    return this.head.forward(a.add(h).mean(1)); // (B, 3)
  }
}

const MODELS: Record<string, { build: () => Module; input: (k: ReturnType<typeof random.key>) => Tensor; classes: number }> = {
  mlp: { build: () => new Sequential(new Flatten(), new Linear(64, 32), new ReLU(), new Linear(32, 10)), input: (k) => random.normal(k, [16, 1, 8, 8]), classes: 10 },
  cnn: {
    build: () => new Sequential(new Conv2d(1, 4, 3, { padding: 1, bias: false }), new BatchNorm2d(4), new ReLU(), new MaxPool2d(2), new Flatten(), new Linear(64, 10)),
    input: (k) => random.normal(k, [16, 1, 8, 8]),
    classes: 10,
  },
  seq: { build: () => new SeqNet(), input: (k) => random.normal(k, [4, 5, 6]), classes: 3 },
};

const OPTIMIZERS: Record<string, (ps: Parameter[]) => Optimizer<any>> = {
  sgd: (ps) => new SGD(ps, { lr: 0.1, momentum: 0.9, nesterov: true }),
  rmsprop: (ps) => new RMSprop(ps, { lr: 0.01, centered: true }),
  adam: (ps) => new Adam(ps, { lr: 0.01, amsgrad: true }),
  adamw: (ps) => new AdamW(ps, { lr: 0.01, weightDecay: 0.1 }),
};

async function copyTo(t: Tensor, backend: Backend): Promise<Tensor> {
  return fromArray('copy', await t.data(), t.shape, t.dtype, backend);
}

/** Trains `model` for `steps` steps on (x, y); returns the losses and the final weights. */
async function train(model: Module, opt: Optimizer<any>, x: Tensor, y: Tensor, steps: number) {
  const losses: number[] = [];
  for (let s = 0; s < steps; s++) {
    const loss = scope(() => {
      const loss = crossEntropy(model.forward(x), y);
      backward(loss);
      opt.step();
      opt.zeroGrad();
      return loss;
    });
    losses.push(await loss.item());
    loss.dispose();
  }
  const weights = await Promise.all(model.parameters().map(async (p) => Array.from(await p.data())));
  return { losses, weights };
}

describe('training on WebGPU matches the CPU', () => {
  for (const [modelName, spec] of Object.entries(MODELS)) {
    for (const [optName, makeOpt] of Object.entries(OPTIMIZERS)) {
      it(`${modelName} with ${optName}: 4 steps, same losses and weights`, async () => {
        manualSeed(7);
        const onCpu = spec.build(); // built on the default (CPU) backend
        const [kx, ky] = random.split(random.key(3));
        const x = spec.input(kx);
        const y = random.randint(ky, [x.shape[0]], 0, spec.classes);
        // the same module and data on the GPU
        manualSeed(7);
        const onGpu = await spec.build().to(gpu);
        const xg = await copyTo(x, gpu);
        const yg = await copyTo(y, gpu);
        const before = memory(gpu);

        const a = await train(onCpu, makeOpt(onCpu.parameters()), x, y, 4);
        const optGpu = makeOpt(onGpu.parameters());
        const b = await train(onGpu, optGpu, xg, yg, 4);

        expect(a.losses[3]).toBeLessThan(a.losses[0]); // it trains
        for (let s = 0; s < 4; s++) expect(Math.abs(b.losses[s] - a.losses[s])).toBeLessThan(1e-4 * Math.max(1, Math.abs(a.losses[s])));
        let worst = 0;
        a.weights.forEach((w, i) => w.forEach((v, j) => (worst = Math.max(worst, Math.abs(v - b.weights[i][j]) / Math.max(1, Math.abs(v))))));
        expect(worst).toBeLessThan(1e-4);
        // the GPU step leaves nothing behind but the optimizer state
        optGpu.dispose();
        expect(memory(gpu).tensors).toBe(before.tensors);
        for (const t of [x, y, xg, yg]) t.dispose();
        onCpu.dispose();
        onGpu.dispose();
      }, 120_000);
    }
  }
});

/** Dynamic loss scaling: scaled backward + unscale gives the true step; inf/NaN skips the step and halves the scale. */
import { backward } from '@ml/autograd';
import { Parameter } from '@ml/nn';
import { memory, scope, tensor } from '@ml/tensor';
import { describe, expect, it } from 'vitest';
import { clipGradNorm, GradScaler, SGD } from '@ml/optim';

/** loss = Σ (w·x − 1)² for x = [1, 2]: ∂/∂w = 2(w·x − 1)·x. */
const loss = (w: Parameter) => w.mul(tensor([1, 2])).sub(1).square().sum();

describe('GradScaler', () => {
  it('scales the loss by S; unscaled gradients and the step equal the unscaled computation', async () => {
    const w = new Parameter(tensor([0.5, -0.25]));
    const opt = new SGD([w], { lr: 0.1 });
    const scaler = new GradScaler({ initScale: 1024 });
    const scaled = scaler.scale(loss(w));
    expect(await scaled.item()).toBeCloseTo(1024 * ((0.5 - 1) ** 2 + (-0.5 - 1) ** 2), 3);
    backward(scaled);
    expect(Array.from(w.grad!.dataSync())).toEqual([1024 * 2 * -0.5 * 1, 1024 * 2 * -1.5 * 2]);
    scaler.unscale(opt);
    expect(Array.from(w.grad!.dataSync())).toEqual([-1, -6]);
    expect(await clipGradNorm([w], 100)).toBeCloseTo(Math.hypot(1, 6), 5); // gradients are true ones now
    expect(await scaler.step(opt)).toBe(true);
    const f = Math.fround; // float32 arithmetic: θ − f32(f32(0.1)·g)
    expect(Array.from(w.dataSync())).toEqual([f(0.5 - f(f(0.1) * -1)), f(-0.25 - f(f(0.1) * -6))]);
    scaler.update();
    expect(scaler.getScale()).toBe(1024);
    expect(scaler.growthTracker).toBe(1);
    opt.zeroGrad();
    scaled.dispose();
    w.dispose();
  });

  it('skips the step when a gradient is inf or NaN, halves the scale, and grows it ×2 after growthInterval good steps', async () => {
    const w = new Parameter(tensor([1, 1]));
    const opt = new SGD([w], { lr: 0.1 });
    const scaler = new GradScaler({ initScale: 8, growthInterval: 3 });
    const iteration = async (grad: number[]) => {
      w.grad = tensor(grad);
      const stepped = await scaler.step(opt);
      scaler.update();
      opt.zeroGrad();
      return stepped;
    };
    expect(await iteration([Infinity, 0])).toBe(false);
    expect(Array.from(w.dataSync())).toEqual([1, 1]); // untouched
    expect(scaler.getScale()).toBe(4);
    expect(await iteration([0, NaN])).toBe(false);
    expect(scaler.getScale()).toBe(2);
    expect(await iteration([2, 2])).toBe(true); // grads unscaled by 1/2: step of 0.1·1
    expect(Array.from(w.dataSync())).toEqual([Math.fround(1 - Math.fround(0.1)), Math.fround(1 - Math.fround(0.1))]);
    expect(await iteration([0, 0])).toBe(true);
    expect(scaler.getScale()).toBe(2);
    expect(await iteration([0, 0])).toBe(true); // third good step in a row
    expect(scaler.getScale()).toBe(4);
    expect(scaler.growthTracker).toBe(0);
    expect(await iteration([-Infinity, 0])).toBe(false);
    expect(scaler.getScale()).toBe(2);
    w.dispose();
  });

  it('keeps memory flat over many iterations', async () => {
    const w = new Parameter(tensor([0.5, -0.25]));
    const opt = new SGD([w], { lr: 0.01, momentum: 0.9 });
    const scaler = new GradScaler();
    let mem = memory();
    for (let i = 0; i < 50; i++) {
      scope(() => backward(scaler.scale(loss(w))));
      await scaler.step(opt);
      scaler.update();
      opt.zeroGrad();
      if (i === 1) mem = memory();
    }
    expect(memory()).toEqual(mem);
    opt.dispose();
    w.dispose();
  });

  it('enforces the call order, and passes through when disabled', async () => {
    const w = new Parameter(tensor([1]));
    const opt = new SGD([w], { lr: 1 });
    const scaler = new GradScaler();
    expect(() => scaler.update()).toThrow(/GradScaler\.update: no step\(\) was recorded since the last update\(\)/);
    w.grad = tensor([1]);
    scaler.unscale(opt);
    expect(() => scaler.unscale(opt)).toThrow(/GradScaler\.unscale: already called for this optimizer since the last update\(\)/);
    expect(() => scaler.update()).toThrow(/call step\(optimizer\) for every unscaled optimizer before update\(\)/);
    await scaler.step(opt);
    await expect(scaler.step(opt)).rejects.toThrow(/GradScaler\.step: already called for this optimizer since the last update\(\)/);
    scaler.update();
    opt.zeroGrad();

    const off = new GradScaler({ enabled: false });
    const l = tensor(3);
    expect(off.scale(l)).toBe(l);
    expect(off.getScale()).toBe(1);
    w.grad = tensor([Infinity]);
    expect(await off.step(opt)).toBe(true); // no check at all
    off.update();
    w.dispose();
  });

  it('stateDict/loadStateDict; options are validated', () => {
    const a = new GradScaler({ initScale: 256, growthInterval: 10 });
    const b = new GradScaler({ growthInterval: 10 }).loadStateDict(JSON.parse(JSON.stringify(a.stateDict())));
    expect(b.getScale()).toBe(256);
    expect(() => new GradScaler({ initScale: 0 })).toThrow(/GradScaler: initScale must be a positive finite number, got 0/);
    expect(() => new GradScaler({ growthFactor: 1 })).toThrow(/GradScaler: growthFactor must be > 1, got 1/);
    expect(() => new GradScaler({ backoffFactor: 1 })).toThrow(/GradScaler: backoffFactor must be in \[0, 1\), got 1/);
    expect(() => new GradScaler({ growthInterval: 0.5 })).toThrow(/GradScaler: growthInterval must be an integer ≥ 1, got 0.5/);
  });
});

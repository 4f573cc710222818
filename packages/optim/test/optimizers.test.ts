/**
 * Each optimizer's first steps against the update written out by hand in plain float64 JS,
 * following the algorithm boxes of the torch.optim documentation (one reference per optimizer,
 * written independently of the implementation).
 */
import { Parameter } from '@ml/nn';
import { tensor } from '@ml/tensor';
import { describe, expect, it } from 'vitest';
import { Adagrad, Adam, AdamW, RMSprop, SGD } from '@ml/optim';
import { expectClose, f64, GRADS, THETA0, trajectory } from './helpers.js';

// ---- references: θ after each step, for one parameter, gradients given -------------------------

interface SgdH { lr: number; momentum?: number; dampening?: number; weightDecay?: number; nesterov?: boolean; maximize?: boolean }
function sgdRef(theta0: number[], grads: number[][], h: SgdH): number[][] {
  const { lr, momentum: mu = 0, dampening: tau = 0, weightDecay: wd = 0, nesterov = false, maximize = false } = h;
  const theta = [...theta0];
  const b: number[] = [];
  return grads.map((grad, t) =>
    theta.map((_, i) => {
      let g = maximize ? -grad[i] : grad[i];
      if (wd !== 0) g += wd * theta[i];
      if (mu !== 0) {
        b[i] = t === 0 ? g : mu * b[i] + (1 - tau) * g;
        g = nesterov ? g + mu * b[i] : b[i];
      }
      return (theta[i] -= lr * g);
    }),
  );
}

interface AdagradH { lr: number; lrDecay?: number; weightDecay?: number; initialAccumulatorValue?: number; eps?: number }
function adagradRef(theta0: number[], grads: number[][], h: AdagradH): number[][] {
  const { lr, lrDecay = 0, weightDecay: wd = 0, initialAccumulatorValue = 0, eps = 1e-10 } = h;
  const theta = [...theta0];
  const G = theta0.map(() => initialAccumulatorValue);
  return grads.map((grad, t) => {
    const clr = lr / (1 + t * lrDecay); // t = step − 1
    return theta.map((_, i) => {
      const g = grad[i] + wd * theta[i];
      G[i] += g * g;
      return (theta[i] -= (clr * g) / (Math.sqrt(G[i]) + eps));
    });
  });
}

interface RmsH { lr: number; alpha?: number; eps?: number; weightDecay?: number; momentum?: number; centered?: boolean }
function rmspropRef(theta0: number[], grads: number[][], h: RmsH): number[][] {
  const { lr, alpha = 0.99, eps = 1e-8, weightDecay: wd = 0, momentum: mu = 0, centered = false } = h;
  const theta = [...theta0];
  const v = theta0.map(() => 0);
  const gAvg = theta0.map(() => 0);
  const b = theta0.map(() => 0);
  return grads.map((grad) =>
    theta.map((_, i) => {
      const g = grad[i] + wd * theta[i];
      v[i] = alpha * v[i] + (1 - alpha) * g * g;
      let vt = v[i];
      if (centered) {
        gAvg[i] = alpha * gAvg[i] + (1 - alpha) * g;
        vt -= gAvg[i] * gAvg[i];
      }
      if (mu > 0) {
        b[i] = mu * b[i] + g / (Math.sqrt(vt) + eps);
        return (theta[i] -= lr * b[i]);
      }
      return (theta[i] -= (lr * g) / (Math.sqrt(vt) + eps));
    }),
  );
}

interface AdamH { lr: number; betas?: [number, number]; eps?: number; weightDecay?: number; amsgrad?: boolean; maximize?: boolean; decoupled?: boolean }
function adamRef(theta0: number[], grads: number[][], h: AdamH): number[][] {
  const { lr, betas: [b1, b2] = [0.9, 0.999], eps = 1e-8, weightDecay: wd = 0, amsgrad = false, maximize = false, decoupled = false } = h;
  const theta = [...theta0];
  const m = theta0.map(() => 0);
  const v = theta0.map(() => 0);
  const vMax = theta0.map(() => 0);
  return grads.map((grad, k) => {
    const t = k + 1;
    return theta.map((_, i) => {
      let g = maximize ? -grad[i] : grad[i];
      if (decoupled) theta[i] *= 1 - lr * wd;
      else g += wd * theta[i];
      m[i] = b1 * m[i] + (1 - b1) * g;
      v[i] = b2 * v[i] + (1 - b2) * g * g;
      const mHat = m[i] / (1 - b1 ** t);
      let vHat = v[i] / (1 - b2 ** t);
      if (amsgrad) {
        vMax[i] = Math.max(vMax[i], v[i]);
        vHat = vMax[i] / (1 - b2 ** t);
      }
      return (theta[i] -= (lr * mHat) / (Math.sqrt(vHat) + eps));
    });
  });
}

// ---- the first three steps ----------------------------------------------------------------------

describe('SGD', () => {
  const cases: SgdH[] = [
    { lr: 0.1 },
    { lr: 0.1, momentum: 0.9 },
    { lr: 0.05, momentum: 0.8, dampening: 0.3 },
    { lr: 0.1, momentum: 0.9, nesterov: true },
    { lr: 0.1, momentum: 0.9, weightDecay: 0.2 },
    { lr: 0.1, momentum: 0.5, weightDecay: 0.2, maximize: true },
  ];
  for (const h of cases) {
    it(`matches the closed form for ${JSON.stringify(h)}`, () => {
      expectClose(trajectory((ps) => new SGD(ps, h), THETA0, GRADS), sgdRef(THETA0, GRADS, h));
    });
  }

  it('momentum 0 is plain SGD, bit for bit (dampening then does nothing)', () => {
    const plain = THETA0.map((v, i) => v - 0.1 * GRADS[0][i]);
    expect(trajectory((ps) => new SGD(ps, { lr: 0.1, momentum: 0, dampening: 0.4 }), THETA0, GRADS)[0]).toEqual(plain);
    expect(trajectory((ps) => new SGD(ps, { lr: 0.1, momentum: 0 }), THETA0, GRADS)).toEqual(trajectory((ps) => new SGD(ps, { lr: 0.1 }), THETA0, GRADS));
  });

  it('Nesterov looks ahead along the momentum: hand-computed values with the right signs', () => {
    // θ₀ = 1, ∇ = 1 every step, γ = 0.1, μ = 0.9.
    // classical: b₁ = 1, θ₁ = 0.9;   b₂ = 1.9, θ₂ = 0.9 − 0.19 = 0.71
    // Nesterov:  b₁ = 1, g = 1 + 0.9·1 = 1.9, θ₁ = 0.81;   b₂ = 1.9, g = 1 + 0.9·1.9 = 2.71, θ₂ = 0.539
    const ones = [[1], [1]];
    const classical = trajectory((ps) => new SGD(ps, { lr: 0.1, momentum: 0.9 }), [1], ones).map((r) => r[0]);
    const nesterov = trajectory((ps) => new SGD(ps, { lr: 0.1, momentum: 0.9, nesterov: true }), [1], ones).map((r) => r[0]);
    expect(classical[0]).toBeCloseTo(0.9, 14);
    expect(classical[1]).toBeCloseTo(0.71, 14);
    expect(nesterov[0]).toBeCloseTo(0.81, 14);
    expect(nesterov[1]).toBeCloseTo(0.539, 14);
  });

  it('momentum keeps its buffer across steps', () => {
    const p = f64([0]);
    const opt = new SGD([p], { lr: 1, momentum: 0.5 });
    for (const g of [1, 0, 0]) {
      p.grad = tensor([g], { dtype: 'float64' });
      opt.step();
      opt.zeroGrad();
    }
    // b: 1, 0.5, 0.25 → θ = −1.75
    expect(p.dataSync()[0]).toBeCloseTo(-1.75, 15);
    expect(opt.stateOf(p)!.tensors.momentum_buffer.dataSync()[0]).toBeCloseTo(0.25, 15);
    opt.dispose();
    p.dispose();
  });
});

describe('Adagrad', () => {
  const cases: AdagradH[] = [
    { lr: 0.1 },
    { lr: 0.5, lrDecay: 0.1, weightDecay: 0.05, initialAccumulatorValue: 0.2, eps: 1e-3 },
  ];
  for (const h of cases) {
    it(`matches the closed form for ${JSON.stringify(h)}`, () => {
      expectClose(trajectory((ps) => new Adagrad(ps, h), THETA0, GRADS), adagradRef(THETA0, GRADS, h));
    });
  }

  it("each element's effective rate lr/(√G + ε) never increases, and matches the parameter's move", () => {
    const grads = Array.from({ length: 25 }, (_, t) => [Math.sin(t + 1), t % 3 === 0 ? 0 : Math.cos(3 * t), 10 * Math.sin(0.3 * t)]);
    const p = f64([1, 2, 3]);
    const opt = new Adagrad([p], { lr: 0.3, eps: 1e-6 });
    let last = [Infinity, Infinity, Infinity];
    for (const g of grads) {
      const before = Array.from(p.dataSync());
      p.grad = tensor(g, { dtype: 'float64' });
      opt.step();
      opt.zeroGrad();
      const G = Array.from(opt.stateOf(p)!.tensors.sum.dataSync());
      const rate = G.map((s) => 0.3 / (Math.sqrt(s) + 1e-6));
      const after = p.dataSync();
      rate.forEach((r, i) => {
        expect(r).toBeLessThanOrEqual(last[i]);
        if (g[i] !== 0) {
          expect(r).toBeLessThan(last[i]);
          expect((before[i] - after[i]) / g[i]).toBeCloseTo(r, 12);
        }
      });
      last = rate;
    }
    opt.dispose();
    p.dispose();
  });
});

describe('RMSprop', () => {
  const cases: RmsH[] = [
    { lr: 0.01 },
    { lr: 0.01, alpha: 0.9, eps: 1e-4, weightDecay: 0.1 },
    { lr: 0.01, alpha: 0.8, momentum: 0.5 },
    { lr: 0.01, alpha: 0.8, centered: true },
    { lr: 0.02, alpha: 0.7, momentum: 0.9, centered: true, weightDecay: 0.05 },
  ];
  for (const h of cases) {
    it(`matches the closed form for ${JSON.stringify(h)}`, () => {
      expectClose(trajectory((ps) => new RMSprop(ps, h), THETA0, GRADS), rmspropRef(THETA0, GRADS, h));
    });
  }
});

describe('Adam and AdamW', () => {
  const cases: AdamH[] = [
    { lr: 1e-3 },
    { lr: 0.1, betas: [0.8, 0.9], eps: 1e-3 },
    { lr: 0.1, weightDecay: 0.1 },
    { lr: 0.1, betas: [0.5, 0.6], amsgrad: true },
    { lr: 0.1, maximize: true, weightDecay: 0.1 },
  ];
  for (const h of cases) {
    it(`Adam matches the closed form for ${JSON.stringify(h)}`, () => {
      expectClose(trajectory((ps) => new Adam(ps, h), THETA0, GRADS), adamRef(THETA0, GRADS, h));
    });
  }
  for (const h of [{ lr: 0.1, weightDecay: 0.1 }, { lr: 0.1, weightDecay: 0.3, betas: [0.5, 0.6], amsgrad: true }] as AdamH[]) {
    it(`AdamW matches the closed form for ${JSON.stringify(h)}`, () => {
      expectClose(trajectory((ps) => new AdamW(ps, h), THETA0, GRADS), adamRef(THETA0, GRADS, { ...h, decoupled: true }));
    });
  }

  it('the amsgrad case above really takes the running maximum (it differs from plain Adam)', () => {
    const h: AdamH = { lr: 0.1, betas: [0.5, 0.6] };
    const plain = adamRef(THETA0, GRADS, h)[2];
    const ams = adamRef(THETA0, GRADS, { ...h, amsgrad: true })[2];
    expect(Math.max(...plain.map((v, i) => Math.abs(v - ams[i])))).toBeGreaterThan(1e-3);
  });

  it('steps against the gradient by about lr per element (bias correction makes the first step exactly lr·g/(|g|+ε))', () => {
    const [step1] = trajectory((ps) => new Adam(ps, { lr: 0.1 }), [1, 1, 1], [[2, -3, 1e-3]]);
    expect(step1[0]).toBeCloseTo(1 - (0.1 * 2) / (2 + 1e-8), 14); // ≈ 0.9: down for a positive gradient
    expect(step1[1]).toBeCloseTo(1 + (0.1 * 3) / (3 + 1e-8), 14); // ≈ 1.1: up for a negative one
    expect(step1[2]).toBeCloseTo(1 - (0.1 * 1e-3) / (1e-3 + 1e-8), 12); // even for a tiny gradient
  });

  it('weight decay: Adam adds λθ to the gradient (normalized away), AdamW shrinks θ by (1 − γλ) per step', () => {
    // with a zero loss gradient, only the decay acts
    const zero = Array.from({ length: 5 }, () => [0, 0]);
    const theta0 = [10, 0.01];
    const adamw = trajectory((ps) => new AdamW(ps, { lr: 0.01, weightDecay: 0.5 }), theta0, zero);
    adamw.forEach((row, t) => row.forEach((v, i) => expect(v).toBeCloseTo(theta0[i] * (1 - 0.01 * 0.5) ** (t + 1), 14)));
    // Adam's L2 term goes through the normalization m/√v: both weights move by ≈ lr, whatever their size
    const adam = trajectory((ps) => new Adam(ps, { lr: 0.01, weightDecay: 0.5 }), theta0, zero);
    expect(theta0[0] - adam[0][0]).toBeCloseTo(0.01, 6);
    expect(theta0[1] - adam[0][1]).toBeCloseTo(0.01, 5);
    // so the small weight is nearly gone under Adam, while AdamW took 0.5% off both
    expect(Math.abs(adam[0][1])).toBeLessThan(1e-6);
    expect(adamw[0][1]).toBeCloseTo(0.01 * 0.995, 15);
    // and without weight decay the two are the same algorithm, bit for bit
    expect(trajectory((ps) => new AdamW(ps, { lr: 0.1, weightDecay: 0 }), THETA0, GRADS)).toEqual(trajectory((ps) => new Adam(ps, { lr: 0.1 }), THETA0, GRADS));
  });

  it('AdamW defaults to weightDecay 0.01, Adam to 0 (as PyTorch)', () => {
    const p = f64([1]);
    expect(new AdamW([p]).paramGroups[0].weightDecay).toBe(0.01);
    expect(new Adam([p]).paramGroups[0]).toMatchObject({ lr: 1e-3, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0, amsgrad: false });
    p.dispose();
  });
});

describe('the Optimizer base class', () => {
  it('parameter groups have their own lr; changing group.lr changes the next step', () => {
    const a = f64([1, 1]);
    const b = f64([1]);
    const opt = new SGD([{ params: [a], lr: 0.5 }, { params: [b] }], { lr: 0.01 });
    expect(opt.paramGroups.map((g) => g.lr)).toEqual([0.5, 0.01]);
    const stepWith = (ga: number[], gb: number[]) => {
      a.grad = tensor(ga, { dtype: 'float64' });
      b.grad = tensor(gb, { dtype: 'float64' });
      opt.step();
      opt.zeroGrad();
    };
    stepWith([1, 2], [3]);
    expect(Array.from(a.dataSync())).toEqual([1 - 0.5, 1 - 0.5 * 2]);
    expect(Array.from(b.dataSync())).toEqual([1 - 0.01 * 3]);
    opt.paramGroups[1].lr = 0.25;
    stepWith([0, 0], [1]);
    expect(Array.from(b.dataSync())).toEqual([1 - 0.01 * 3 - 0.25]);
    a.dispose();
    b.dispose();
  });

  it('skips parameters without a gradient (their state is not created or advanced)', () => {
    const a = f64([1]);
    const b = f64([1]);
    const opt = new Adam([a, b], { lr: 0.1 });
    a.grad = tensor([1], { dtype: 'float64' });
    opt.step();
    expect(b.dataSync()[0]).toBe(1);
    expect(opt.stateOf(b)).toBeUndefined();
    expect(opt.stateOf(a)!.step).toBe(1);
    opt.zeroGrad();
    expect(a.grad).toBeNull();
    opt.dispose();
    a.dispose();
    b.dispose();
  });

  it('addParamGroup adds parameters with their own hyperparameters', () => {
    const a = f64([1]);
    const b = f64([1]);
    const opt = new SGD([a], { lr: 0.1, momentum: 0.9 });
    opt.addParamGroup({ params: [b], lr: 1, momentum: 0 });
    expect(opt.paramGroups[1]).toMatchObject({ lr: 1, momentum: 0, dampening: 0, nesterov: false });
    b.grad = tensor([2], { dtype: 'float64' });
    opt.step();
    expect(b.dataSync()[0]).toBe(-1);
    a.dispose();
    b.dispose();
  });

  it('float32 parameters stay float32 and the update is correct to float32 precision', () => {
    const p = new Parameter(tensor([0.5, -1.25, 2, 0.1]));
    const opt = new Adam([p], { lr: 0.1, weightDecay: 0.1 });
    const ref = adamRef(THETA0, GRADS, { lr: 0.1, weightDecay: 0.1 });
    for (const [t, g] of GRADS.entries()) {
      p.grad = tensor(g);
      opt.step();
      opt.zeroGrad();
      expect(p.dtype).toBe('float32');
      Array.from(p.dataSync()).forEach((v, i) => expect(Math.abs(v - ref[t][i])).toBeLessThan(1e-6));
    }
    opt.dispose();
    p.dispose();
  });
});

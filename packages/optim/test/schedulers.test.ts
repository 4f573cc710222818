/**
 * Learning-rate schedules against PyTorch's semantics. StepLR, MultiStepLR, ExponentialLR and
 * CosineAnnealingLR are checked against PyTorch's *recursive* (chainable) update rules, written
 * out here step by step, which the closed forms of the implementation must reproduce; the others
 * against their defining formulas and hand-computed values.
 */
import { describe, expect, it } from 'vitest';
import {
  Adagrad,
  Adam,
  CosineAnnealingLR,
  ExponentialLR,
  LambdaLR,
  LinearWarmupCosine,
  MultiStepLR,
  OneCycleLR,
  ReduceLROnPlateau,
  SGD,
  StepLR,
} from '@ml/optim';
import type { LRScheduler } from '@ml/optim';
import { f64 } from './helpers.js';

const LRS = [0.1, 0.02];

/** An SGD with two groups (lr 0.1 and 0.02) over throwaway parameters. */
function sgd(lrs = LRS, extra: object = {}) {
  return new SGD(lrs.map((lr) => ({ params: [f64([0])], lr })), extra);
}

/** getLastLr() at construction and after each of `n` steps. */
function run(s: LRScheduler, n: number): number[][] {
  const out = [s.getLastLr()];
  for (let i = 0; i < n; i++) {
    s.step();
    out.push(s.getLastLr());
    expect(s.optimizer.paramGroups.map((g) => g.lr)).toEqual(out[out.length - 1]);
  }
  return out;
}

/** PyTorch's chainable rule: lr_t = rule(t, lr_{t−1}, base) for t ≥ 1, lr_0 = base. */
function recursive(n: number, rule: (t: number, prev: number, base: number) => number): number[][] {
  const out = [LRS];
  for (let t = 1; t <= n; t++) out.push(out[t - 1].map((prev, i) => rule(t, prev, LRS[i])));
  return out;
}

function expectRowsClose(actual: number[][], expected: number[][], tol = 1e-12): void {
  expect(actual.length).toBe(expected.length);
  actual.forEach((row, t) => row.forEach((v, i) => expect(Math.abs(v - expected[t][i]), `step ${t}, group ${i}: ${v} vs ${expected[t][i]}`).toBeLessThanOrEqual(tol * Math.abs(expected[t][i]) + 1e-300)));
}

describe('closed forms equal PyTorch’s recursive rules', () => {
  it('StepLR', () => {
    const ref = recursive(25, (t, lr) => (t % 7 === 0 ? lr * 0.5 : lr));
    expectRowsClose(run(new StepLR(sgd(), { stepSize: 7, gamma: 0.5 }), 25), ref);
    expect(ref[6][0]).toBe(0.1);
    expect(ref[7][0]).toBe(0.05);
  });

  it('MultiStepLR (a repeated milestone applies γ twice)', () => {
    const milestones = [9, 3, 9, 12];
    const ref = recursive(15, (t, lr) => lr * 0.1 ** milestones.filter((m) => m === t).length);
    expectRowsClose(run(new MultiStepLR(sgd(), { milestones, gamma: 0.1 }), 15), ref);
    expect(ref[9][0]).toBeCloseTo(0.1 * 0.1 ** 3, 15);
  });

  it('ExponentialLR', () => {
    expectRowsClose(run(new ExponentialLR(sgd(), { gamma: 0.9 }), 20), recursive(20, (_t, lr) => lr * 0.9));
  });

  it('CosineAnnealingLR, through η_min and back up past T_max', () => {
    const T = 10;
    const etaMin = 0.001;
    const ref = recursive(35, (t, lr, base) => {
      if ((t - 1 - T) % (2 * T) === 0) return lr + ((base - etaMin) * (1 - Math.cos(Math.PI / T))) / 2;
      return ((1 + Math.cos((Math.PI * t) / T)) / (1 + Math.cos((Math.PI * (t - 1)) / T))) * (lr - etaMin) + etaMin;
    });
    const got = run(new CosineAnnealingLR(sgd(), { tMax: T, etaMin }), 35);
    expectRowsClose(got, ref, 1e-11);
    expect(got[T][0]).toBeCloseTo(etaMin, 15);
    expect(got[2 * T][0]).toBeCloseTo(0.1, 14);
  });
});

describe('LRScheduler conventions', () => {
  it('the constructor sets step 0; lrAt gives any step without stepping; initialLr is kept for later schedules', () => {
    const opt = sgd();
    const s = new StepLR(opt, { stepSize: 2, gamma: 0.5 });
    expect(s.lastEpoch).toBe(0);
    expect(s.lrAt(5)).toEqual([0.1 * 0.25, 0.02 * 0.25]);
    expect(s.lastEpoch).toBe(0);
    run(s, 4);
    expect(opt.paramGroups.map((g) => g.initialLr)).toEqual(LRS);
    // a second schedule scales the initial lrs, not the current ones (PyTorch's initial_lr)
    const e = new ExponentialLR(opt, { gamma: 0.5 });
    expect(e.baseLrs).toEqual(LRS);
    expect(e.getLastLr()).toEqual(LRS);
  });

  it('stateDict/loadStateDict resume a schedule where it was', () => {
    const a = new CosineAnnealingLR(sgd(), { tMax: 20 });
    run(a, 7);
    const b = new CosineAnnealingLR(sgd(), { tMax: 20 });
    b.loadStateDict(JSON.parse(JSON.stringify(a.stateDict())));
    expect(b.optimizer.paramGroups.map((g) => g.lr)).toEqual(a.getLastLr()); // the lrs are restored too
    a.step();
    b.step();
    expect(b.getLastLr()).toEqual(a.getLastLr());
    expect(b.lastEpoch).toBe(8);
  });

  it('LambdaLR multiplies each initial lr by its own function', () => {
    const s = new LambdaLR(sgd(), [(t) => 1 / (t + 1), (t) => 0.5 ** t]);
    expectRowsClose(run(s, 5), [0, 1, 2, 3, 4, 5].map((t) => [0.1 / (t + 1), 0.02 * 0.5 ** t]));
  });
});

describe('LinearWarmupCosine', () => {
  it('warms up linearly to lr at step W, decays by a half cosine to minLr at step T, then stays', () => {
    const s = new LinearWarmupCosine(sgd([1]), { warmupSteps: 4, totalSteps: 10, minLr: 0.1 });
    const got = run(s, 13).map((r) => r[0]);
    const hand = [0.25, 0.5, 0.75, 1, 1]; // t = 0…4
    hand.forEach((v, t) => expect(got[t]).toBeCloseTo(v, 15));
    expect(got[7]).toBeCloseTo(0.1 + 0.9 * 0.5, 15); // halfway: cos(π/2) = 0
    for (let t = 4; t <= 10; t++) expect(got[t]).toBeCloseTo(0.1 + (0.9 * (1 + Math.cos((Math.PI * (t - 4)) / 6))) / 2, 15);
    expect(got.slice(10)).toEqual([0.1, 0.1, 0.1, 0.1]);
    // monotone: up during warmup, down after
    for (let t = 1; t < 4; t++) expect(got[t]).toBeGreaterThan(got[t - 1]);
    for (let t = 5; t <= 10; t++) expect(got[t]).toBeLessThan(got[t - 1]);
  });

  it('takes one minLr per group', () => {
    const s = new LinearWarmupCosine(sgd(), { warmupSteps: 0, totalSteps: 5, minLr: [0.01, 0] });
    expect(s.getLastLr()).toEqual(LRS);
    expect(s.lrAt(5)).toEqual([0.01, 0]);
  });
});

describe('OneCycleLR', () => {
  /** PyTorch's OneCycleLR.get_lr, written out for one group. */
  function pytorchOneCycle(t: number, T: number, maxLr: number, o: { pct?: number; div?: number; finalDiv?: number; linear?: boolean; three?: boolean } = {}) {
    const { pct = 0.3, div = 25, finalDiv = 1e4, linear = false, three = false } = o;
    const init = maxLr / div;
    const min = init / finalDiv;
    const phases = three
      ? [[pct * T - 1, init, maxLr, 0.95, 0.85], [2 * pct * T - 2, maxLr, init, 0.85, 0.95], [T - 1, init, min, 0.95, 0.95]]
      : [[pct * T - 1, init, maxLr, 0.95, 0.85], [T - 1, maxLr, min, 0.85, 0.95]];
    const anneal = (a: number, b: number, p: number) => (linear ? (b - a) * p + a : b + ((a - b) / 2) * (Math.cos(Math.PI * p) + 1));
    let start = 0;
    for (let i = 0; i < phases.length; i++) {
      const [end, l0, l1, m0, m1] = phases[i];
      if (t <= end || i === phases.length - 1) {
        const p = (t - start) / (end - start);
        return [anneal(l0, l1, p), anneal(m0, m1, p)];
      }
      start = end;
    }
    throw new Error('unreachable');
  }

  it('follows PyTorch’s phases (defaults: cos, pctStart 0.3, divFactor 25, finalDivFactor 1e4) and cycles momentum', () => {
    const T = 10;
    const opt = sgd([0.5, 0.5], { momentum: 0.9 });
    const s = new OneCycleLR(opt, { maxLr: [1, 0.3], totalSteps: T });
    for (let t = 0; t < T; t++) {
      if (t > 0) s.step();
      [1, 0.3].forEach((maxLr, i) => {
        const [lr, m] = pytorchOneCycle(t, T, maxLr);
        expect(opt.paramGroups[i].lr).toBeCloseTo(lr, 14);
        expect(opt.paramGroups[i].momentum).toBeCloseTo(m, 14);
      });
    }
    // by hand: start maxLr/25 and momentum 0.95, peak at step 0.3·10 − 1 = 2 with momentum 0.85, end maxLr/25/1e4 at step 9
    expect(s.lrAt(0)[0]).toBeCloseTo(0.04, 15);
    expect(s.lrAt(1)[0]).toBeCloseTo(0.52, 15);
    expect(s.lrAt(2)[0]).toBeCloseTo(1, 15);
    expect(s.momentumAt(2)[0]).toBeCloseTo(0.85, 15);
    expect(s.lrAt(9)[0]).toBeCloseTo(4e-6, 18);
    expect(s.momentumAt(9)[0]).toBeCloseTo(0.95, 15);
    // step T, after the last batch: PyTorch extrapolates past the cycle's end; we hold the final values
    s.step();
    expect(s.getLastLr()).toEqual(s.lrAt(9));
    expect(opt.paramGroups[0].momentum).toBe(s.momentumAt(9)[0]);
    expect(() => s.step()).toThrow(/OneCycleLR: tried to step 11 times; the cycle has totalSteps = 10/);
    expect(s.lastEpoch).toBe(10);
  });

  it('linear and three-phase variants; cycles Adam’s β₁; epochs × stepsPerEpoch', () => {
    const opt = new Adam([f64([0])], { betas: [0.9, 0.99] });
    const s = new OneCycleLR(opt, { maxLr: 0.01, epochs: 4, stepsPerEpoch: 5, annealStrategy: 'linear', threePhase: true, pctStart: 0.25 });
    expect(s.totalSteps).toBe(20);
    for (let t = 0; t < 20; t++) {
      if (t > 0) s.step();
      const [lr, m] = pytorchOneCycle(t, 20, 0.01, { linear: true, three: true, pct: 0.25 });
      expect(opt.paramGroups[0].lr).toBeCloseTo(lr, 15);
      expect(opt.paramGroups[0].betas).toEqual([expect.closeTo(m, 14), 0.99]);
    }
    // loading a position restores the momentum of that step as well
    const again = new OneCycleLR(new Adam([f64([0])], { betas: [0.9, 0.99] }), { maxLr: 0.01, totalSteps: 20, annealStrategy: 'linear', threePhase: true, pctStart: 0.25 });
    s.step();
    expect(pytorchOneCycle(20, 20, 0.01, { linear: true, three: true, pct: 0.25 })[0]).toBeLessThan(0); // PyTorch's extrapolation
    expect(s.getLastLr()[0]).toBeCloseTo(0.01 / 25 / 1e4, 18); // ours holds the minimum
    again.loadStateDict({ ...s.stateDict(), lastEpoch: 4 });
    expect((again.optimizer as Adam).paramGroups[0].betas[0]).toBeCloseTo(pytorchOneCycle(4, 20, 0.01, { linear: true, three: true, pct: 0.25 })[1], 14);
    const noCycle = new OneCycleLR(sgd(), { maxLr: 0.1, totalSteps: 5, cycleMomentum: false });
    expect((noCycle.optimizer as SGD).paramGroups[0].momentum).toBe(0);
  });
});

describe('ReduceLROnPlateau', () => {
  const trace = (opts: ConstructorParameters<typeof ReduceLROnPlateau>[1], metrics: number[], lrs = [1]) => {
    const s = new ReduceLROnPlateau(sgd(lrs), opts);
    return metrics.map((m) => (s.step(m), s.getLastLr()));
  };

  it('cuts after more than `patience` bad steps, then waits `cooldown` steps (hand-traced)', () => {
    const flat = [4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4];
    // patience 1: the 2nd bad step cuts (steps 3, 7, 11); cooldown 2 swallows the two steps after each cut
    expect(trace({ factor: 0.5, patience: 1, cooldown: 2, threshold: 0, thresholdMode: 'abs' }, flat).map((r) => r[0])).toEqual([1, 1, 0.5, 0.5, 0.5, 0.5, 0.25, 0.25, 0.25, 0.25, 0.125]);
    // without cooldown every 2nd step cuts
    expect(trace({ factor: 0.5, patience: 1, threshold: 0, thresholdMode: 'abs' }, flat).map((r) => r[0])).toEqual([1, 1, 0.5, 0.5, 0.25, 0.25, 0.125, 0.125, 0.0625, 0.0625, 0.03125]);
    // improvements reset the count
    expect(trace({ factor: 0.5, patience: 2, threshold: 0, thresholdMode: 'abs' }, [5, 4, 4, 4, 4, 3, 3, 3, 3]).map((r) => r[0])).toEqual([1, 1, 1, 1, 0.5, 0.5, 0.5, 0.5, 0.25]);
  });

  it('thresholds, max mode, NaN, minLr per group and eps', () => {
    // rel: 0.99995 is not below 1·(1 − 1e-4), so it is a bad step
    expect(trace({ patience: 0 }, [1, 0.99995]).map((r) => r[0])).toEqual([1, 0.1]);
    expect(trace({ patience: 0 }, [1, 0.9998]).map((r) => r[0])).toEqual([1, 1]);
    // max mode: rising is good
    expect(trace({ mode: 'max', patience: 0, factor: 0.5 }, [1, 2, 3, 2]).map((r) => r[0])).toEqual([1, 1, 1, 0.5]);
    expect(trace({ patience: 0, factor: 0.5 }, [1, NaN]).map((r) => r[0])).toEqual([1, 0.5]);
    // floors per group; a cut smaller than eps is skipped
    expect(trace({ patience: 0, factor: 0.5, minLr: [0.3, 0] }, [1, 1, 1], [1, 1e-8]).map((r) => r)).toEqual([[1, 1e-8], [0.5, 1e-8], [0.3, 1e-8]]);
  });

  it('stateDict/loadStateDict round trip through JSON', () => {
    const a = new ReduceLROnPlateau(sgd([1]), { patience: 1, cooldown: 1, factor: 0.5 });
    [3, 3, 3].forEach((m) => a.step(m));
    const b = new ReduceLROnPlateau(sgd([0.5]), { patience: 1, cooldown: 1, factor: 0.5 });
    b.loadStateDict(JSON.parse(JSON.stringify(a.stateDict())));
    expect(b.best).toBe(3);
    expect(b.inCooldown).toBe(true);
    [3, 3, 3].forEach((m) => (a.step(m), b.step(m)));
    expect(b.getLastLr()).toEqual(a.getLastLr());
  });
});

describe('schedule arguments are validated', () => {
  const bad: [string, () => unknown, RegExp][] = [
    ['StepLR stepSize', () => new StepLR(sgd(), { stepSize: 0 }), /StepLR: stepSize must be an integer ≥ 1, got 0/],
    ['StepLR gamma', () => new StepLR(sgd(), { stepSize: 2, gamma: -1 }), /StepLR: gamma must be a non-negative finite number, got -1/],
    ['MultiStepLR milestones', () => new MultiStepLR(sgd(), { milestones: [2, 3.5] }), /MultiStepLR: milestones\[1\] must be an integer ≥ 1, got 3.5/],
    ['ExponentialLR gamma', () => new ExponentialLR(sgd(), { gamma: NaN }), /ExponentialLR: gamma must be a non-negative finite number, got NaN/],
    ['CosineAnnealingLR tMax', () => new CosineAnnealingLR(sgd(), { tMax: 0 }), /CosineAnnealingLR: tMax must be an integer ≥ 1, got 0/],
    ['LinearWarmupCosine order', () => new LinearWarmupCosine(sgd(), { warmupSteps: 10, totalSteps: 5 }), /warmupSteps \(10\) must not exceed totalSteps \(5\)/],
    ['LinearWarmupCosine minLr', () => new LinearWarmupCosine(sgd(), { warmupSteps: 1, totalSteps: 5, minLr: [0] }), /minLr has 1 values, the optimizer has 2 parameter group\(s\)/],
    ['OneCycleLR steps', () => new OneCycleLR(sgd(), { maxLr: 0.1 }), /OneCycleLR: give either totalSteps or both epochs and stepsPerEpoch/],
    ['OneCycleLR pctStart', () => new OneCycleLR(sgd(), { maxLr: 0.1, totalSteps: 10, pctStart: 1.5 }), /OneCycleLR: pctStart must be in \[0, 1\], got 1.5/],
    ['OneCycleLR anneal', () => new OneCycleLR(sgd(), { maxLr: 0.1, totalSteps: 10, annealStrategy: 'exp' as 'cos' }), /annealStrategy must be one of 'cos', 'linear', got 'exp'/],
    ['OneCycleLR without momentum', () => new OneCycleLR(new Adagrad([f64([0])]), { maxLr: 0.1, totalSteps: 10 }), /Adagrad has no momentum or betas to cycle; pass cycleMomentum: false/],
    ['ReduceLROnPlateau factor', () => new ReduceLROnPlateau(sgd(), { factor: 1 }), /ReduceLROnPlateau: factor must be in \[0, 1\), got 1/],
    ['ReduceLROnPlateau mode', () => new ReduceLROnPlateau(sgd(), { mode: 'avg' as 'min' }), /mode must be one of 'min', 'max', got 'avg'/],
    ['not an optimizer', () => new StepLR({} as SGD, { stepSize: 1 }), /StepLR: expected an Optimizer/],
    ['lrAt step', () => new StepLR(sgd(), { stepSize: 1 }).lrAt(-1), /StepLR\.lrAt: step must be an integer ≥ 0, got -1/],
  ];
  for (const [name, fn, message] of bad) it(name, () => expect(fn).toThrow(message));

  it('a group added after the schedule was made is an error at step', () => {
    const opt = sgd();
    const s = new StepLR(opt, { stepSize: 1 });
    opt.addParamGroup({ params: [f64([1])] });
    expect(() => s.step()).toThrow(/StepLR\.step: the optimizer has 3 parameter group\(s\), the schedule was made for 2/);
  });
});

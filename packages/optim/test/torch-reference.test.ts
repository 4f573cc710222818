/**
 * Against PyTorch itself: trajectories, lr sequences and clipped gradients recorded from
 * torch.optim by test/fixtures/torch_reference.py (float64 on the CPU; the fixture names the
 * PyTorch version). The other tests check the same things against formulas written out by hand.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Parameter } from '@ml/nn';
import { tensor } from '@ml/tensor';
import { describe, expect, it } from 'vitest';
import * as optim from '@ml/optim';
import type { LRScheduler, Optimizer } from '@ml/optim';
import { expectClose, trajectory } from './helpers.js';

interface Fixture {
  torch: string;
  theta0: number[];
  grads: number[][];
  optimizers: { name: 'SGD' | 'Adagrad' | 'RMSprop' | 'Adam' | 'AdamW'; options: Record<string, unknown>; trajectory: number[][] }[];
  schedules: {
    name: string;
    options: Record<string, unknown>;
    steps: number;
    lrs: number[];
    lr: number[][];
    momentum?: number[][];
    optimizer?: 'Adam';
    optimizerOptions?: Record<string, number>;
    metrics?: (number | 'NaN')[];
  }[];
  clipGrads: (number[] | number[][])[];
  clip: { maxNorm: number; normType: number | 'Infinity'; total: number; clipped: (number[] | number[][])[] }[];
}

const fixture: Fixture = JSON.parse(readFileSync(fileURLToPath(new URL('./fixtures/torch_reference.json', import.meta.url)), 'utf8'));

describe(`optimizers match torch.optim ${fixture.torch} over ${fixture.grads.length} steps`, () => {
  for (const { name, options, trajectory: expected } of fixture.optimizers) {
    it(`${name} ${JSON.stringify(options)}`, () => {
      const Ctor = optim[name] as unknown as new (ps: Parameter[], o: object) => Optimizer<any>;
      expectClose(trajectory((ps) => new Ctor(ps, options), fixture.theta0, fixture.grads), expected, 1e-12);
    });
  }
});

describe(`schedules match torch.optim.lr_scheduler ${fixture.torch}`, () => {
  for (const s of fixture.schedules) {
    it(`${s.name} ${JSON.stringify(s.options)}`, () => {
      const params = s.lrs.map(() => new Parameter(tensor([0], { dtype: 'float64' })));
      const groups = params.map((p, i) => ({ params: [p], lr: s.lrs[i] }));
      const opt = s.optimizer === 'Adam' ? new optim.Adam(groups) : new optim.SGD(groups, s.optimizerOptions);
      const momentum = () => opt.paramGroups.map((g) => ('betas' in g ? (g.betas as readonly number[])[0] : (g as { momentum: number }).momentum));
      const lr: number[][] = [];
      const mom: number[][] = [];
      if (s.name === 'ReduceLROnPlateau') {
        const plateau = new optim.ReduceLROnPlateau(opt, s.options);
        for (const m of s.metrics!) {
          plateau.step(m === 'NaN' ? NaN : m);
          lr.push(plateau.getLastLr());
        }
      } else {
        const Ctor = optim[s.name as 'StepLR'] as unknown as new (o: Optimizer<any>, opts: object) => LRScheduler;
        const sched = new Ctor(opt, s.options);
        lr.push(sched.getLastLr());
        mom.push(momentum());
        for (let i = 0; i < s.steps; i++) {
          sched.step();
          lr.push(sched.getLastLr());
          mom.push(momentum());
        }
      }
      expectClose(lr, s.lr, 1e-12);
      if (s.momentum) expectClose(mom, s.momentum, 1e-12);
      params.forEach((p) => p.dispose());
    });
  }
});

describe(`clipGradNorm matches torch.nn.utils.clip_grad_norm_ ${fixture.torch}`, () => {
  for (const c of fixture.clip) {
    it(`maxNorm ${c.maxNorm}, normType ${c.normType}`, async () => {
      const ps = fixture.clipGrads.map((g) => {
        const p = new Parameter(tensor(g, { dtype: 'float64' }).mul(0));
        p.grad = tensor(g, { dtype: 'float64' });
        return p;
      });
      const total = await optim.clipGradNorm(ps, c.maxNorm, c.normType === 'Infinity' ? Infinity : c.normType);
      expect(total).toBeCloseTo(c.total, 12);
      expectClose(ps.map((p) => Array.from(p.grad!.dataSync())), c.clipped.map((g) => g.flat()), 1e-12);
      for (const p of ps) {
        p.grad!.dispose();
        p.dispose();
      }
    });
  }
});

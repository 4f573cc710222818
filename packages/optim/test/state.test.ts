/**
 * Optimizer state: state dicts (contents, validation, snapshots), resuming from a checkpoint file
 * bit-identically, and memory that stays flat over many steps.
 */
import { backward } from '@ml/autograd';
import { decodeCheckpoint, encodeCheckpoint, Module, Parameter } from '@ml/nn';
import { memory, random, scope, tensor, zeros } from '@ml/tensor';
import type { Tensor } from '@ml/tensor';
import { describe, expect, it } from 'vitest';
import { Adagrad, Adam, AdamW, LinearWarmupCosine, packOptimizerState, RMSprop, SGD, unpackOptimizerState } from '@ml/optim';
import type { Optimizer, OptimizerStateDict } from '@ml/optim';
import { f64 } from './helpers.js';

class Tiny extends Module {
  w: Parameter;
  b: Parameter;
  constructor(seed: number) {
    super();
    this.w = new Parameter(random.normal(random.key(seed), [3, 2])); // (3, 2) float32
    this.b = new Parameter(zeros([2]));
  }
  forward(x: Tensor): Tensor {
    return x.matmul(this.w).add(this.b).tanh(); // (B, 2)
  }
}

const X = random.normal(random.key(100), [8, 3]);
const Y = random.uniform(random.key(101), [8, 2], { minval: -0.5, maxval: 0.5 });

function trainSteps(model: Tiny, opts: Optimizer<any>[], sched: LinearWarmupCosine | null, n: number): void {
  for (let i = 0; i < n; i++) {
    scope(() => backward(model.forward(X).sub(Y).square().mean()));
    for (const o of opts) o.step();
    model.zeroGrad();
    sched?.step();
  }
}

const bits = (m: Tiny) => [Array.from(m.w.dataSync()), Array.from(m.b.dataSync())];

/** Two optimizers on one model: AdamW (amsgrad) for the weight, SGD with Nesterov for the bias. */
function setup(seed: number) {
  const model = new Tiny(seed);
  const adam = new AdamW([model.w], { lr: 0.05, amsgrad: true, weightDecay: 0.1 });
  const sgd = new SGD([model.b], { lr: 0.1, momentum: 0.9, nesterov: true });
  const sched = new LinearWarmupCosine(adam, { warmupSteps: 3, totalSteps: 12, minLr: 0.005 });
  return { model, adam, sgd, sched };
}

describe('stateDict', () => {
  it('holds PyTorch-named state tensors by parameter index, hyperparameters and step counts as JSON', () => {
    const a = f64([1, 2]);
    const b = f64([3]);
    const c = f64([4]);
    const opt = new Adam([{ params: [a, b], lr: 0.1 }, { params: [c], amsgrad: true }]);
    a.grad = tensor([1, 1], { dtype: 'float64' });
    c.grad = tensor([1], { dtype: 'float64' });
    opt.step();
    opt.step();
    const sd = opt.stateDict();
    expect(Object.keys(sd.state).sort()).toEqual(['0.exp_avg', '0.exp_avg_sq', '2.exp_avg', '2.exp_avg_sq', '2.max_exp_avg_sq']);
    expect(sd.steps).toEqual([2, 0, 2]);
    expect(sd.groups).toEqual([
      { lr: 0.1, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0, amsgrad: false, maximize: false, params: [0, 1] },
      { lr: 1e-3, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0, amsgrad: true, maximize: false, params: [2] },
    ]);
    expect(JSON.parse(JSON.stringify({ groups: sd.groups, steps: sd.steps }))).toEqual({ groups: sd.groups, steps: sd.steps });
    // m after two steps of g = 1: 0.1 + 0.09 = 0.19
    expect(Array.from(sd.state['0.exp_avg'].dataSync()).map((v) => +v.toFixed(12))).toEqual([0.19, 0.19]);
    // the tensors are snapshots: later steps do not change them
    opt.step();
    expect(sd.state['0.exp_avg'].dataSync()[0]).toBeCloseTo(0.19, 12);
    for (const t of Object.values(sd.state)) t.dispose();
    opt.dispose();
    [a, b, c].forEach((p) => p.dispose());
  });

  it('a run resumed from a checkpoint file (model + optimizers + schedule) is bit-identical to an uninterrupted one', async () => {
    const straight = setup(7);
    trainSteps(straight.model, [straight.adam, straight.sgd], straight.sched, 10);

    const first = setup(7);
    trainSteps(first.model, [first.adam, first.sgd], first.sched, 5);
    // save: the model's tensors, each optimizer's tensors under its own prefix, the JSON parts in metadata
    const packedAdam = packOptimizerState(first.adam.stateDict(), 'adam.');
    const packedSgd = packOptimizerState(first.sgd.stateDict(), 'sgd.');
    const bytes = await encodeCheckpoint(
      { ...first.model.stateDict(), ...packedAdam.tensors, ...packedSgd.tensors },
      { metadata: { adam: packedAdam.metadata['ml.optimizer'], sgd: packedSgd.metadata['ml.optimizer'], schedule: JSON.stringify(first.sched.stateDict()) } },
    );
    const lrAt5 = first.adam.paramGroups[0].lr;
    first.model.dispose();
    first.adam.dispose();
    first.sgd.dispose();

    // load into a fresh, differently initialised model and fresh optimizers
    const resumed = setup(99);
    const { tensors, metadata } = await decodeCheckpoint(bytes);
    expect(Object.keys(tensors).sort()).toEqual(['adam.0.exp_avg', 'adam.0.exp_avg_sq', 'adam.0.max_exp_avg_sq', 'b', 'sgd.0.momentum_buffer', 'w']);
    const adamPart = unpackOptimizerState(tensors, { 'ml.optimizer': metadata.adam });
    const sgdPart = unpackOptimizerState(adamPart.rest, { 'ml.optimizer': metadata.sgd });
    resumed.model.loadStateDict(sgdPart.rest);
    resumed.adam.loadStateDict(adamPart.optimizer);
    resumed.sgd.loadStateDict(sgdPart.optimizer);
    resumed.sched.loadStateDict(JSON.parse(metadata.schedule));
    for (const t of Object.values(tensors)) t.dispose(); // the optimizer and model share the buffers
    expect(resumed.adam.paramGroups[0].lr).toBe(lrAt5);
    expect(resumed.adam.paramGroups[0].lr).not.toBe(0.05);

    trainSteps(resumed.model, [resumed.adam, resumed.sgd], resumed.sched, 5);
    expect(bits(resumed.model)).toEqual(bits(straight.model));
    expect(resumed.adam.paramGroups[0].lr).toBe(straight.adam.paramGroups[0].lr);
    expect(resumed.sched.getLastLr()).toEqual(straight.sched.getLastLr());
    // and the run really depended on the optimizer state: without it, resuming differs
    const cold = setup(7);
    trainSteps(cold.model, [cold.adam, cold.sgd], cold.sched, 5);
    const fresh = { adam: new AdamW([cold.model.w], { lr: 0.05, amsgrad: true, weightDecay: 0.1 }), sgd: new SGD([cold.model.b], { lr: 0.1, momentum: 0.9, nesterov: true }) };
    trainSteps(cold.model, [fresh.adam, fresh.sgd], null, 5);
    expect(bits(cold.model)).not.toEqual(bits(straight.model));
    for (const s of [straight, resumed, cold]) {
      s.model.dispose();
      s.adam.dispose();
      s.sgd.dispose();
    }
    fresh.adam.dispose();
    fresh.sgd.dispose();
  });
});

describe('loadStateDict', () => {
  function trained() {
    const p = f64([1, 2, 3]);
    const q = f64([4]);
    const opt = new SGD([p, q], { lr: 0.1, momentum: 0.9 });
    p.grad = tensor([1, 0, -1], { dtype: 'float64' });
    q.grad = tensor([2], { dtype: 'float64' });
    opt.step();
    opt.zeroGrad();
    return { p, q, opt };
  }

  it('rejects a state for a different set of parameters with a clear error, leaving the optimizer untouched', () => {
    const { p, q, opt } = trained();
    const good = opt.stateDict();
    const before = opt.stateOf(p)!.tensors.momentum_buffer;
    const expectRejected = (sd: OptimizerStateDict, message: RegExp) => {
      expect(() => opt.loadStateDict(sd)).toThrow(message);
      expect(opt.stateOf(p)!.tensors.momentum_buffer).toBe(before);
      expect(before.isDisposed).toBe(false);
      expect(opt.paramGroups[0].lr).toBe(0.1);
    };
    expectRejected({ ...good, groups: [...good.groups, { params: [] }] }, /SGD\.loadStateDict: the state has 2 parameter group\(s\), the optimizer has 1/);
    expectRejected({ ...good, groups: [{ ...good.groups[0], params: [0] }], steps: [1] }, /group 0 has 1 parameter\(s\) in the state, 2 in the optimizer/);
    const wrongShape = { ...good.state, '0.momentum_buffer': tensor([1, 2], { dtype: 'float64' }) };
    expectRejected({ ...good, state: wrongShape }, /size mismatch for 0\.momentum_buffer: the state has shape \(2,\), the parameter has \(3,\)/);
    expectRejected({ ...good, state: { ...good.state, '0.momentum_buffer': tensor([1, 2, 3]) } }, /dtype mismatch for 0\.momentum_buffer: the state has float32, the parameter float64/);
    expectRejected({ ...good, state: { ...good.state, '0.exp_avg': tensor([1, 2, 3], { dtype: 'float64' }) } }, /unexpected key '0\.exp_avg' \(SGD keeps 'momentum_buffer'\)/);
    expectRejected({ ...good, state: { ...good.state, '7.momentum_buffer': tensor([1], { dtype: 'float64' }) } }, /unexpected key '7\.momentum_buffer'/);
    expectRejected({ ...good, groups: [{ ...good.groups[0], lr: -1 }] }, /SGD: lr must be a non-negative finite number, got -1/);
    expectRejected({ ...good, groups: [{ ...good.groups[0], momentun: 0.9 }] }, /unknown option 'momentun'/);
    // an Adam state without its moments cannot claim steps were taken
    const a = f64([1]);
    const adam = new Adam([a]);
    expect(() => adam.loadStateDict({ state: {}, groups: adam.stateDict().groups, steps: [3] })).toThrow(
      /parameter 0 has taken 3 step\(s\) but the state lacks '0\.exp_avg', '0\.exp_avg_sq'/,
    );
    for (const t of Object.values(good.state)) t.dispose();
    [p, q, a].forEach((t) => t.dispose());
    opt.dispose();
  });

  it('loads hyperparameters and state, and keeps working after the caller disposes the tensors it passed', () => {
    const { p, q, opt } = trained();
    const sd = opt.stateDict();
    sd.groups[0].lr = 0.5;
    const other = trained();
    other.opt.paramGroups[0].lr = 123;
    other.opt.loadStateDict(sd);
    for (const t of Object.values(sd.state)) t.dispose();
    expect(other.opt.paramGroups[0].lr).toBe(0.5);
    other.p.grad = tensor([0, 0, 0], { dtype: 'float64' });
    other.opt.step();
    // b = 0.9·[1, 0, −1]; θ = [0.9, 2, 3.1] − 0.5·b
    expect(Array.from(other.p.dataSync()).map((v) => +v.toFixed(12))).toEqual([0.45, 2, 3.55]);
    [p, q, other.p, other.q].forEach((t) => t.dispose());
    opt.dispose();
    other.opt.dispose();
  });
});

describe('memory', () => {
  const makers: [string, (ps: Parameter[]) => Optimizer<any>][] = [
    ['SGD (Nesterov, weight decay)', (ps) => new SGD(ps, { lr: 0.01, momentum: 0.9, nesterov: true, weightDecay: 0.1 })],
    ['Adagrad', (ps) => new Adagrad(ps, { lr: 0.01, weightDecay: 0.1 })],
    ['RMSprop (centered, momentum)', (ps) => new RMSprop(ps, { lr: 0.01, centered: true, momentum: 0.5, weightDecay: 0.1 })],
    ['Adam (amsgrad)', (ps) => new Adam(ps, { lr: 0.01, amsgrad: true, weightDecay: 0.1 })],
    ['AdamW', (ps) => new AdamW(ps, { lr: 0.01 })],
  ];
  for (const [name, make] of makers) {
    it(`${name}: flat over 200 steps, even when stepping inside a caller's scope; all freed by dispose`, () => {
      const start = memory();
      const ps = [new Parameter(random.normal(random.key(1), [16, 8])), new Parameter(zeros([8]))];
      const opt = make(ps);
      let after2 = memory();
      for (let t = 0; t < 200; t++) {
        for (const [i, p] of ps.entries()) p.grad = random.normal(random.key(1000 * i + t), p.shape);
        if (t % 2) scope(() => opt.step());
        else opt.step();
        opt.zeroGrad();
        if (t === 1) after2 = memory();
      }
      expect(memory()).toEqual(after2);
      expect(Object.values(opt.stateOf(ps[0])!.tensors).every((s) => !s.isDisposed)).toBe(true);
      opt.dispose();
      ps.forEach((p) => p.dispose());
      expect(memory()).toEqual(start);
    });
  }
});

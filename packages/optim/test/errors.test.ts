/** Bad input never gives a silent wrong answer: every optimizer argument is checked, with a clear message. */
import { Parameter } from '@ml/nn';
import { tensor } from '@ml/tensor';
import type { Tensor } from '@ml/tensor';
import { describe, expect, it } from 'vitest';
import { Adagrad, Adam, AdamW, RMSprop, SGD } from '@ml/optim';
import { f64 } from './helpers.js';

const p = f64([1, 2]);

describe('hyperparameters are validated in the constructors', () => {
  const bad: [string, () => unknown, string][] = [
    ['Adam lr', () => new Adam([p], { lr: -0.1 }), 'Adam: lr must be a non-negative finite number, got -0.1'],
    ['Adam lr NaN', () => new Adam([p], { lr: NaN }), 'Adam: lr must be a non-negative finite number, got NaN'],
    ['Adam beta1', () => new Adam([p], { betas: [1, 0.999] }), 'Adam: betas[0] must be in [0, 1), got 1'],
    ['Adam beta2', () => new Adam([p], { betas: [0.9, -0.5] }), 'Adam: betas[1] must be in [0, 1), got -0.5'],
    ['Adam betas shape', () => new Adam([p], { betas: [0.9] as unknown as [number, number] }), 'Adam: betas must be a pair [β1, β2], got 0.9'],
    ['Adam eps', () => new Adam([p], { eps: -1e-8 }), 'Adam: eps must be a non-negative finite number, got -1e-8'],
    ['Adam weightDecay', () => new Adam([p], { weightDecay: -1 }), 'Adam: weightDecay must be a non-negative finite number, got -1'],
    ['Adam amsgrad', () => new Adam([p], { amsgrad: 1 as unknown as boolean }), 'Adam: amsgrad must be true or false, got 1'],
    ['AdamW names itself', () => new AdamW([p], { lr: Infinity }), 'AdamW: lr must be a non-negative finite number, got Infinity'],
    ['SGD momentum', () => new SGD([p], { lr: 0.1, momentum: -0.9 }), 'SGD: momentum must be a non-negative finite number, got -0.9'],
    ['SGD dampening', () => new SGD([p], { lr: 0.1, momentum: 0.9, dampening: 2 }), 'SGD: dampening must be in [0, 1], got 2'],
    ['SGD nesterov without momentum', () => new SGD([p], { lr: 0.1, nesterov: true }), 'SGD: nesterov needs momentum > 0 and dampening 0, got momentum 0 and dampening 0'],
    ['SGD nesterov with dampening', () => new SGD([p], { lr: 0.1, momentum: 0.9, dampening: 0.1, nesterov: true }), 'SGD: nesterov needs momentum > 0 and dampening 0, got momentum 0.9 and dampening 0.1'],
    ['Adagrad lrDecay', () => new Adagrad([p], { lrDecay: -1 }), 'Adagrad: lrDecay must be a non-negative finite number, got -1'],
    ['Adagrad initialAccumulatorValue', () => new Adagrad([p], { initialAccumulatorValue: -1 }), 'Adagrad: initialAccumulatorValue must be a non-negative finite number, got -1'],
    ['RMSprop alpha', () => new RMSprop([p], { alpha: 1.5 }), 'RMSprop: alpha must be in [0, 1], got 1.5'],
    ['RMSprop centered', () => new RMSprop([p], { centered: 'yes' as unknown as boolean }), "RMSprop: centered must be true or false, got 'yes'"],
    ['a typo in the options', () => new SGD([p], { lr: 0.1, momentun: 0.9 } as object), "SGD: unknown option 'momentun' in the options (known: lr, momentum, dampening, weightDecay, nesterov, maximize)"],
    ['a bad group hyperparameter', () => new Adam([{ params: [p], lr: -1 }]), 'Adam: lr must be a non-negative finite number, got -1'],
    ['a typo in a group', () => new Adam([{ params: [p], beta: 0.9 } as object as { params: Parameter[] }]), "Adam: unknown option 'beta' in parameter group 0"],
  ];
  for (const [name, fn, message] of bad) it(name, () => expect(fn).toThrow(message));
});

describe('parameters are validated', () => {
  it('rejects an empty list, non-Parameters, disposed parameters and duplicates', () => {
    const q = f64([3]);
    expect(() => new SGD([])).toThrow('SGD: got an empty parameter list');
    expect(() => new SGD([tensor([1]) as unknown as Parameter])).toThrow(/SGD: params\[0\] of parameter group 0 is not a Parameter \(got Tensor\); optimizers update Parameters of @ml\/nn/);
    expect(() => new SGD([{ params: [p] }, { params: [q, p] }])).toThrow(/SGD: params\[1\] of parameter group 1 \(shape \(2,\)\) appears more than once/);
    expect(() => new SGD([p, p])).toThrow(/appears more than once/);
    const gone = f64([1]);
    gone.dispose();
    expect(() => new Adam([gone])).toThrow(/Adam: params\[0\] of parameter group 0 \(shape \(1,\)\) was disposed/);
    expect(() => new SGD(p as unknown as Parameter[])).toThrow(/SGD: params must be an array of Parameters or of parameter groups, got Parameter/);
    const opt = new SGD([p]);
    expect(() => opt.addParamGroup({ params: [p] })).toThrow(/appears more than once/);
    q.dispose();
  });

  it('a step with a gradient of the wrong shape or dtype throws before changing any parameter', () => {
    const a = f64([1, 1]);
    const c = new Parameter(tensor([[1, 2], [3, 4]], { dtype: 'float64' }));
    const opt = new Adam([a, c], { lr: 0.1 });
    a.grad = tensor([1, 1], { dtype: 'float64' });
    c.grad = tensor([1, 2, 3, 4], { dtype: 'float64' });
    expect(() => opt.step()).toThrow('Adam.step: the gradient of parameter 1 has shape (4,), the parameter has shape (2, 2)');
    expect(Array.from(a.dataSync())).toEqual([1, 1]); // parameter 0 was not updated either
    expect(opt.stateOf(a)).toBeUndefined();
    c.grad = tensor([[1, 2], [3, 4]]);
    expect(() => opt.step()).toThrow('Adam.step: the gradient of parameter 1 (shape (2, 2)) is float32, the parameter float64');
    (c.grad as Tensor).dispose();
    c.grad = tensor([[1, 2], [3, 4]], { dtype: 'float64' });
    c.grad.dispose();
    expect(() => opt.step()).toThrow('Adam.step: the gradient of parameter 1 (shape (2, 2)) was disposed');
    a.dispose();
    c.dispose();
  });

  it('a hyperparameter set to a bad value between steps is caught at the next step', () => {
    const a = f64([1]);
    const opt = new SGD([a], { lr: 0.1 });
    opt.paramGroups[0].lr = -0.5;
    a.grad = tensor([1], { dtype: 'float64' });
    expect(() => opt.step()).toThrow('SGD: lr must be a non-negative finite number, got -0.5');
    expect(a.dataSync()[0]).toBe(1);
    a.dispose();
  });
});

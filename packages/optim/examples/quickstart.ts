import { backward } from '@ml/autograd';
import { crossEntropy, decodeCheckpoint, encodeCheckpoint, Linear, manualSeed, ReLU, Sequential } from '@ml/nn';
import { AdamW, clipGradNorm, LinearWarmupCosine, packOptimizerState, unpackOptimizerState } from '@ml/optim';
import { random, scope } from '@ml/tensor';

// Data: points in the square, labelled 1 in the quadrants where x₀·x₁ > 0 (not linearly separable).
manualSeed(0);
const x = random.uniform(random.key(1), [256, 2], { minval: -1, maxval: 1 }); // (256, 2)
const y = x.prod(1).gt(0).cast('int32'); // (256,)

// A small MLP, AdamW with decoupled weight decay, warmup + cosine schedule, gradient clipping.
const makeModel = () => new Sequential(new Linear(2, 16), new ReLU(), new Linear(16, 2));
const model = makeModel();
const opt = new AdamW(model.parameters(), { lr: 0.03, weightDecay: 0.01 });
const sched = new LinearWarmupCosine(opt, { warmupSteps: 10, totalSteps: 150, minLr: 0.003 });
const losses: number[] = [];
for (let step = 0; step < 150; step++) {
  const loss = scope(() => {
    const l = crossEntropy(model.forward(x), y); // ()
    backward(l); // fills p.grad for every parameter
    return l;
  });
  losses.push(await loss.item());
  loss.dispose();
  await clipGradNorm(model.parameters(), 1.0); // total gradient norm ≤ 1
  opt.step(); // p ← update(p, p.grad, state)
  opt.zeroGrad();
  sched.step(); // the lr for the next step
}
console.log(losses[0].toFixed(2), losses[149].toFixed(2)); // ≈ 0.69 (chance) → below 0.1
const accuracy = scope(() => model.forward(x).argmax(-1).eq(y).mean().dataSync()[0]);
console.log(accuracy); // > 0.95

// Model + optimizer + schedule in one safetensors file: tensors by name, the rest as JSON metadata.
const bytes = await scope(async () => {
  const packed = packOptimizerState(opt.stateDict()); // 'optimizer.0.exp_avg', …
  const metadata = { ...packed.metadata, schedule: JSON.stringify(sched.stateDict()) };
  return encodeCheckpoint({ ...model.stateDict(), ...packed.tensors }, { metadata });
});

// Resume in a fresh model and optimizer: the next step is exactly the one the first run would take.
const { tensors, metadata } = await decodeCheckpoint(bytes);
const { optimizer: optState, rest } = unpackOptimizerState(tensors, metadata);
const resumed = makeModel();
const resumedOpt = new AdamW(resumed.parameters(), { lr: 0.03, weightDecay: 0.01 });
const resumedSched = new LinearWarmupCosine(resumedOpt, { warmupSteps: 10, totalSteps: 150, minLr: 0.003 });
resumed.loadStateDict(rest);
resumedOpt.loadStateDict(optState); // hyperparameters (lr 0.003 by now), moments and step counts
resumedSched.loadStateDict(JSON.parse(metadata.schedule));
for (const t of Object.values(tensors)) t.dispose(); // the loaded model and optimizer share the buffers
console.log(resumedOpt.paramGroups[0].lr, resumedSched.lastEpoch); // 0.003 150
export { model, opt, resumed, resumedOpt };

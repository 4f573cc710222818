// Training loop of the main example, importable by tests: MNIST digits of the `mnist` package,
// the fixed split (shuffled with key(0): 8,000 train, 2,000 test), Adam, cross-entropy.
import { backward, noGrad } from '@ml/autograd';
import { DataLoader, TensorDataset, mnistSplit } from '@ml/data';
import { crossEntropy, manualSeed } from '@ml/nn';
import { Adam, CosineAnnealingLR } from '@ml/optim';
import { random, scope } from '@ml/tensor';
import { MODELS } from './models.mjs';

/**
 * Trains a model on the fixed MNIST split and returns what it learned.
 * @param {object} opts
 * @param {'mlp'|'lenet'} [opts.model]
 * @param {number} [opts.epochs]
 * @param {number} [opts.batchSize]
 * @param {number} [opts.lr]
 * @param {number} [opts.seed]         initialisation and shuffling seed
 * @param {boolean} [opts.normalize]   standardise pixels with MNIST's mean and std (default true)
 * @param {boolean} [opts.cosine]      decay the learning rate to 0 along a half cosine (default true)
 * @param {(p: object) => void} [opts.onProgress]  called every few steps and at each epoch's end
 */
export async function trainMnist({ model: name = 'mlp', epochs = 15, batchSize = 64, lr = 1e-3, seed = 0, normalize = true, cosine = true, onProgress = () => {} } = {}) {
  if (!(name in MODELS)) throw new Error(`trainMnist: unknown model '${name}' (choose ${Object.keys(MODELS).join(' or ')})`);
  manualSeed(seed);
  const model = MODELS[name]();
  const opt = new Adam(model.parameters(), { lr });
  const { train, test } = await mnistSplit(random.key(0), { normalize });
  const loader = new DataLoader(new TensorDataset(train.images, train.labels), { batchSize, shuffle: true, key: random.key(seed + 1) });
  const stepsPerEpoch = loader.length;
  // The learning rate decays from lr to 0 along a half cosine over the whole run.
  const schedule = cosine ? new CosineAnnealingLR(opt, { tMax: epochs * stepsPerEpoch }) : null;
  const history = [];
  const t0 = performance.now();
  let seen = 0;

  for (let epoch = 1; epoch <= epochs; epoch++) {
    model.train();
    let lossSum = 0;
    let correct = 0;
    let count = 0;
    let step = 0;
    const tEpoch = performance.now();
    for await (const [x, y] of loader) {
      // One step: forward, loss, backward, update. The scope frees the step's tensors and graph.
      const [loss, hits] = scope(() => {
        const logits = model.forward(x); // (B, 10)
        const loss = crossEntropy(logits, y);
        backward(loss);
        opt.step();
        opt.zeroGrad();
        schedule?.step();
        const hits = logits.argmax(-1).eq(y).sum();
        return [loss, hits];
      });
      lossSum += (await loss.item()) * y.shape[0];
      correct += await hits.item();
      count += y.shape[0];
      seen += y.shape[0];
      for (const t of [loss, hits, x, y]) t.dispose();
      step++;
      if (step % 10 === 0 || step === stepsPerEpoch) {
        const elapsed = (performance.now() - tEpoch) / 1000;
        onProgress({ epoch, epochs, step, steps: stepsPerEpoch, loss: lossSum / count, accuracy: correct / count, samplesPerSecond: count / elapsed });
      }
    }
    const testAccuracy = await evaluate(model, test.images, test.labels);
    const entry = { epoch, loss: lossSum / count, trainAccuracy: correct / count, testAccuracy, seconds: (performance.now() - tEpoch) / 1000 };
    history.push(entry);
    onProgress({ ...entry, epochs, done: true });
  }
  const seconds = (performance.now() - t0) / 1000;
  for (const t of [train.images, train.labels]) t.dispose();
  const testAccuracy = history.at(-1).testAccuracy;
  for (const t of [test.images, test.labels]) t.dispose();
  opt.dispose();
  return { model, testAccuracy, history, seconds, samplesPerSecond: seen / seconds };
}

/** Fraction of `images` (N, 1, 28, 28) that `model` classifies as `labels` (N,), in batches of 500. */
export async function evaluate(model, images, labels) {
  model.eval();
  let correct = 0;
  const n = images.shape[0];
  for (let i = 0; i < n; i += 500) {
    const hits = noGrad(() =>
      scope(() => {
        const x = images.slice([[i, Math.min(i + 500, n)]]);
        const y = labels.slice([[i, Math.min(i + 500, n)]]);
        return model.forward(x).argmax(-1).eq(y).sum();
      }),
    );
    correct += await hits.item();
    hits.dispose();
  }
  model.train();
  return correct / n;
}

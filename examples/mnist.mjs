// The main example: trains a classifier on 8,000 real MNIST digits, prints its accuracy on the
// 2,000 held-out digits and saves a checkpoint.
//
//   node mnist.mjs [--model mlp|lenet] [--epochs N] [--backend cpu|wasm|webgpu] [--out file.safetensors]
//                  [--expect 0.975]   (exit with status 1 if the test accuracy is below it)
import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { loadCheckpoint, saveCheckpoint } from '@ml/nn/node';
import { createCpuBackend, loadWasmRuntime, random, setBackend } from '@ml/tensor';
import { MODELS } from './mnist/models.mjs';
import { evaluate, trainMnist } from './mnist/train.mjs';

const args = Object.fromEntries(
  process.argv.slice(2).reduce((pairs, a, i, all) => (a.startsWith('--') ? [...pairs, [a.slice(2), all[i + 1]]] : pairs), []),
);
const name = args.model ?? 'mlp';
const epochs = Number(args.epochs ?? 15);
const out = resolve(args.out ?? `checkpoints/mnist-${name}.safetensors`);
if (args.backend === 'webgpu') {
  const { webgpu } = await import('@ml/gpu-webgpu');
  setBackend(await webgpu());
} else if (args.backend === 'wasm') {
  // the CPU backend with float32 matmul (and so conv) in WebAssembly SIMD on every core
  setBackend(createCpuBackend({ wasm: await loadWasmRuntime() }));
} else if (args.backend !== undefined && args.backend !== 'cpu') {
  throw new Error(`mnist: unknown --backend '${args.backend}' (cpu, wasm or webgpu)`);
}

const tty = process.stdout.isTTY;
const bar = (f, width = 24) => '█'.repeat(Math.round(f * width)).padEnd(width, '·');
const pct = (x) => `${(100 * x).toFixed(1)}%`;

console.log(`Training ${name} on 8,000 MNIST digits (2,000 held out), Adam lr 1e-3 with cosine decay, batch 64, ${epochs} epochs`);
const result = await trainMnist({
  model: name,
  epochs,
  onProgress(p) {
    const head = `epoch ${String(p.epoch).padStart(2)}/${p.epochs}`;
    if (p.done) {
      const line = `${head} ${bar(1)} loss ${p.loss.toFixed(4)}  train ${pct(p.trainAccuracy)}  test ${pct(p.testAccuracy)}  ${p.seconds.toFixed(1)} s`;
      process.stdout.write(tty ? `\r${line}\x1b[K\n` : `${line}\n`);
    } else if (tty) {
      const line = `${head} ${bar(p.step / p.steps)} loss ${p.loss.toFixed(4)}  acc ${pct(p.accuracy)}  ${Math.round(p.samplesPerSecond).toLocaleString('en')} samples/s`;
      process.stdout.write(`\r${line}\x1b[K`);
    }
  },
});

console.log(`\nTest accuracy: ${pct(result.testAccuracy)} on 2,000 digits the model never saw`);
console.log(`Training speed: ${Math.round(result.samplesPerSecond).toLocaleString('en')} samples/s over ${result.seconds.toFixed(1)} s`);

mkdirSync(dirname(out), { recursive: true });
await saveCheckpoint(result.model, out, { metadata: { model: name, testAccuracy: String(result.testAccuracy) } });

// Load the checkpoint into a fresh model to show it holds everything the model learned.
const restored = MODELS[name]();
await loadCheckpoint(restored, out);
const { mnistSplit } = await import('@ml/data');
const { test } = await mnistSplit(random.key(0), { normalize: true });
console.log(`Saved ${out}; reloaded, it scores ${pct(await evaluate(restored, test.images, test.labels))}`);
if (args.expect !== undefined && !(result.testAccuracy >= Number(args.expect))) {
  console.error(`FAIL: test accuracy ${pct(result.testAccuracy)} is below the expected ${pct(Number(args.expect))}`);
  process.exitCode = 1;
}

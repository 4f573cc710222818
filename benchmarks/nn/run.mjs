#!/usr/bin/env node
// nn benchmark suite: MNIST training throughput of the main example's two models (MLP and
// LeNet-5, examples/mnist/models.mjs) with @ml/nn + @ml/optim on @ml/tensor's CPU backend, side by
// side with TensorFlow.js layers (cpu and wasm backends) on the same architecture, the same initial
// weights and the same batches of real digits; with --gpu, also ours on @ml/gpu-webgpu and
// TF.js' webgpu backend on the same adapter.
//
//   node --expose-gc nn/run.mjs [--quick] [--json] [--filter mlp|lenet] [--lib <id>] [--gpu]
//                               [--max-run-ms <ms>] [--no-epoch] [--out <file.json>]
//
// One training step = forward, softmax cross-entropy, backward, Adam update (lr 1e-3), on a batch
// of 64, float32. See ../README.md for how the numbers are taken.
import { parseArgs } from '../common/args.mjs';
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import { firstLine } from '../common/errors.mjs';
import { fmtMs, fmtSeconds, table } from '../common/format.mjs';
import { gitCommit, machineInfo, packageVersion } from '../common/machine.mjs';
import { consoleToStderr, gc, progress, stdoutWrite } from '../common/output.mjs';
import { median } from '../common/timing.mjs';
import { BATCH, CLASSES, LR, MODELS, oneHot, toNhwc, toTfjsWeights } from './models.mjs';
import { setupWebGPU } from '../common/webgpu.mjs';

// ---------------------------------------------------------------------------------------------
// Options
// ---------------------------------------------------------------------------------------------

const LIBS = [
  { id: 'ours-cpu', label: 'ours (cpu)', ours: true },
  { id: 'ours-wasm', label: 'ours (cpu+wasm)', ours: true },
  { id: 'tfjs-cpu', label: 'tfjs-cpu', base: 'ours-cpu' },
  { id: 'tfjs-wasm', label: 'tfjs-wasm', base: 'ours-cpu' },
  { id: 'ours-webgpu', label: 'ours (webgpu)', ours: true, gpu: true },
  { id: 'tfjs-webgpu', label: 'tfjs-webgpu', base: 'ours-webgpu', gpu: true },
];
const LIB_IDS = LIBS.map((l) => l.id);
const TARGET = 2; // ours-cpu samples/s ≥ 2 × tfjs-cpu's

const USAGE = `usage: node --expose-gc nn/run.mjs [options]

  --quick             smoke run: fewer steps, no full-epoch timing
  --json              print one JSON object on stdout (progress goes to stderr)
  --filter <text>     only models whose name contains <text> (repeatable): --filter mlp, --filter lenet
  --lib <id>          only this library row (repeatable): ${LIB_IDS.join(', ')}
  --gpu               add the WebGPU rows (ours-webgpu, tfjs-webgpu); without a GPU, Dawn runs on
                      SwiftShader and the rows only show that it works
  --max-run-ms <ms>   a library whose warm-up step takes longer than this is timed on ${'3'} steps only (default 5000)
  --no-epoch          skip the full-epoch time of the main example's loop
  --out <file>        also write the JSON object to <file>
  --help              this text`;

function parseOptions(argv) {
  const opts = parseArgs(argv, USAGE, {
    '--quick': ['quick', 'on'],
    '--json': ['json', 'on'],
    '--filter': ['filters', 'filters'],
    '--max-run-ms': ['maxRunMs', 'positive'],
    '--out': ['out', 'text'],
    '--lib': ['libs', 'oneOf', LIB_IDS],
    '--gpu': ['gpu', 'on'],
    '--no-epoch': ['epoch', 'off'],
  }, { quick: false, json: false, filters: [], libs: [], gpu: false, maxRunMs: 5000, epoch: true, out: null });
  // Naming a WebGPU row asks for the WebGPU rows.
  if (opts.libs.some((id) => LIBS.find((l) => l.id === id).gpu)) opts.gpu = true;
  return opts;
}

const opts = parseOptions(process.argv.slice(2));

// Steps are timed in blocks of ≥ blockMs per library, the libraries taking turns, until each has
// ≥ minRuns steps and ≥ minTimeMs of them: background load then hits every library alike.
const PROTOCOL = opts.quick
  ? { warmup: 2, minRuns: 3, minTimeMs: 300, maxRuns: 200, blockMs: 100, slowRuns: 2 }
  : { warmup: 3, minRuns: 10, minTimeMs: 3000, maxRuns: 2000, blockMs: 300, slowRuns: 3 };
const N_BATCHES = 8; // the steps cycle through the first 8 batches of the training split
const TOL = 1e-4; // losses agree when |Δ| ≤ TOL · |ours|

if (opts.json) consoleToStderr();

// ---------------------------------------------------------------------------------------------
// Data: the training split of the main example (mnistSplit(key(0)): 8,000 real digits), its first
// N_BATCHES batches of 64 as plain arrays, identical for every library.
// ---------------------------------------------------------------------------------------------

async function loadData(ml, data) {
  const { train, test } = await data.mnistSplit(ml.random.key(0));
  const images = Float32Array.from(train.images.dataSync()); // (8000, 1, 28, 28)
  const labels = Int32Array.from(train.labels.dataSync()); //   (8000,)
  for (const t of [train.images, train.labels, test.images, test.labels]) t.dispose();
  const size = 28 * 28;
  return Array.from({ length: N_BATCHES }, (_, b) => ({
    x: images.slice(b * BATCH * size, (b + 1) * BATCH * size), // (64, 1, 28, 28)
    y: labels.slice(b * BATCH, (b + 1) * BATCH), //                (64,)
  }));
}

// ---------------------------------------------------------------------------------------------
// Libraries. `prepare(model, init, batches)` builds the model from the initial weights `init`
// (our parameters as arrays, in our order) and the batches as that library's tensors, and returns
//   activate()   makes its backend the current one (called before each block of steps)
//   step(b)      one training step on batch b; resolves to the loss, read back
//   evalLoss(b)  the loss on batch b without training (for the check)
//   live()       a count of live tensors, to see leaks
//   release()    frees everything
// Loading failures turn into "n/a" with the reason, never a crash.
// ---------------------------------------------------------------------------------------------

async function loadMl() {
  try {
    const ml = await import('@ml/tensor');
    const ag = await import('@ml/autograd');
    const nn = await import('@ml/nn');
    const optim = await import('@ml/optim');
    const data = await import('@ml/data');
    return { ml, ag, nn, optim, data };
  } catch (e) {
    return { reason: `cannot load @ml/tensor, autograd, nn, optim, data (build them: pnpm turbo run build --filter=@ml/benchmarks^...): ${firstLine(e)}` };
  }
}

/** The example's model builders, or why they cannot be used. */
async function loadBuilders() {
  try {
    const mod = await import('../../examples/mnist/models.mjs');
    for (const m of MODELS) if (typeof mod.MODELS?.[m.id] !== 'function') throw new Error(`examples/mnist/models.mjs has no '${m.id}' builder`);
    return { builders: mod.MODELS };
  } catch (e) {
    return { reason: `cannot build the example's models (examples/mnist/models.mjs): ${firstLine(e)}` };
  }
}

/** Our initial weights for a model: the example's builder after manualSeed(0), read back. */
function initialWeights(lib, builders, model) {
  const { ml, nn } = lib;
  nn.manualSeed(0);
  const m = builders[model.id]();
  const params = m.parameters().map((p) => ({ shape: [...p.shape], data: Float32Array.from(p.dataSync()) }));
  m.dispose();
  return params;
}

function oursRow(lib, builders, id, backend, version) {
  const { ml, ag, nn, optim } = lib;
  const isCpu = backend.name === 'cpu';
  return {
    id,
    version,
    backend,
    async prepare(model, init, batches) {
      ml.setBackend(backend);
      const T = (data, shape, dtype = 'float32') => ml.tensor(data, { shape, dtype, backend });
      // The example's model; its initial weights replaced by `init` (the same numbers when it was
      // built on this machine with manualSeed(0); assigned anyway, as the peers are).
      nn.manualSeed(0);
      const net = builders[model.id]();
      const params = net.parameters();
      params.forEach((p, i) => {
        const v = T(init[i].data, init[i].shape);
        p.assign(v);
        v.dispose();
      });
      const opt = new optim.Adam(params, { lr: LR });
      const X = batches.map((b) => T(b.x, [BATCH, 1, 28, 28]));
      const Y = batches.map((b) => T(b.y, [BATCH], 'int32'));
      const read = async (t) => {
        try { return isCpu ? t.dataSync()[0] : await t.item(); } finally { t.dispose(); }
      };
      return {
        activate: () => ml.setBackend(backend),
        // The main example's step (examples/mnist/train.mjs), PyTorch style.
        step(b) {
          const loss = ml.scope(() => {
            const logits = net.forward(X[b]); // (64, 10)
            const l = nn.crossEntropy(logits, Y[b]);
            ag.backward(l);
            opt.step();
            opt.zeroGrad();
            return l;
          });
          return read(loss);
        },
        evalLoss(b) {
          return read(ag.noGrad(() => ml.scope(() => nn.crossEntropy(net.forward(X[b]), Y[b]))));
        },
        live: () => ml.memory(backend).tensors,
        release() {
          opt.dispose?.();
          net.dispose();
          for (const t of [...X, ...Y]) t.dispose();
        },
      };
    },
  };
}

async function loadOurs(lib, builders, gpuEnv) {
  const ids = ['ours-cpu', 'ours-wasm', 'ours-webgpu'];
  if (lib.reason || builders.reason) return ids.map((id) => ({ id, reason: lib.reason ?? builders.reason }));
  const { ml } = lib;
  const version = `nn ${packageVersion('@ml/nn')}, optim ${packageVersion('@ml/optim')} (tensor ${packageVersion('@ml/tensor')})`;
  const cpuRow = oursRow(lib, builders.builders, 'ours-cpu', ml.getBackend(), version);
  // The CPU backend with float32 matmul (and so conv) in WebAssembly SIMD on every core.
  let wasmRow;
  try {
    const runtime = await ml.loadWasmRuntime();
    wasmRow = oursRow(lib, builders.builders, 'ours-wasm', ml.createCpuBackend({ wasm: runtime }), `${version}, WebAssembly SIMD kernels on ${runtime.threads} thread(s)`);
  } catch (e) {
    wasmRow = { id: 'ours-wasm', reason: `cannot load the WebAssembly runtime: ${firstLine(e)}` };
  }
  const cpu = [cpuRow, wasmRow];
  if (!opts.gpu) return [...cpu, { id: 'ours-webgpu', reason: 'run with --gpu' }];
  if (gpuEnv.reason) return [...cpu, { id: 'ours-webgpu', reason: gpuEnv.reason }];
  try {
    const { webgpu } = await import('@ml/gpu-webgpu');
    const gpu = await webgpu();
    ml.setBackend(cpuRow.backend);
    return [...cpu, oursRow(lib, builders.builders, 'ours-webgpu', gpu, `${version}, gpu-webgpu ${packageVersion('@ml/gpu-webgpu')}`)];
  } catch (e) {
    return [...cpu, { id: 'ours-webgpu', reason: `cannot create the WebGPU backend: ${firstLine(e)}` }];
  }
}

async function loadTfjs(gpuEnv) {
  const ids = ['tfjs-cpu', 'tfjs-wasm', 'tfjs-webgpu'];
  let tf;
  try {
    // The @tensorflow/tfjs bundle: tfjs-core, the layers API, the cpu backend and the gradients.
    const mod = await import('@tensorflow/tfjs');
    tf = typeof mod.sequential === 'function' ? mod : mod.default;
    tf.enableProdMode();
  } catch (e) {
    const reason = `cannot load @tensorflow/tfjs: ${firstLine(e)}`;
    return ids.map((id) => ({ id, reason }));
  }
  const versions = { cpu: packageVersion('@tensorflow/tfjs'), wasm: null, webgpu: null };
  const reasons = { cpu: null, wasm: null, webgpu: opts.gpu ? gpuEnv.reason : 'run with --gpu' };
  try {
    // In Node the package's main entry loads its .wasm binaries from its own dist/ folder.
    const wasm = await import('@tensorflow/tfjs-backend-wasm');
    if (!(await tf.setBackend('wasm'))) throw new Error("tf.setBackend('wasm') returned false");
    await tf.ready();
    const simd = await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT');
    const threads = await tf.env().getAsync('WASM_HAS_MULTITHREAD_SUPPORT');
    const getThreads = wasm.getThreadsCount ?? wasm.default?.getThreadsCount;
    versions.wasm = `${packageVersion('@tensorflow/tfjs-backend-wasm')} (SIMD ${simd ? 'on' : 'off'}, ${threads ? `${getThreads ? getThreads() : '?'} thread(s)` : 'single-threaded'})`;
  } catch (e) {
    reasons.wasm = `cannot start @tensorflow/tfjs-backend-wasm: ${firstLine(e)}`;
  }
  if (!reasons.webgpu) {
    try {
      await import('@tensorflow/tfjs-backend-webgpu'); // registers the 'webgpu' backend
      if (!(await tf.setBackend('webgpu'))) throw new Error("tf.setBackend('webgpu') returned false");
      await tf.ready();
      versions.webgpu = packageVersion('@tensorflow/tfjs-backend-webgpu');
    } catch (e) {
      reasons.webgpu = `cannot start @tensorflow/tfjs-backend-webgpu: ${firstLine(e)}`;
    }
  }
  try {
    if (!(await tf.setBackend('cpu'))) throw new Error("tf.setBackend('cpu') returned false");
  } catch (e) {
    reasons.cpu = `cannot start the TF.js cpu backend: ${firstLine(e)}`;
  }

  const make = (backend) => ({
    id: `tfjs-${backend}`,
    version: versions[backend],
    async prepare(model, init, batches) {
      if (!(await tf.setBackend(backend))) throw new Error(`tf.setBackend('${backend}') returned false`);
      const net = model.tfjs(tf);
      if (init) {
        const ws = toTfjsWeights(model, init).map(({ shape, data }) => tf.tensor(data, shape, 'float32'));
        net.setWeights(ws); // copies into the layers' variables
        tf.dispose(ws);
      }
      // PyTorch's Adam ε (TF.js defaults to 1e-7); the update rule is otherwise the same.
      const optimizer = tf.train.adam(LR, 0.9, 0.999, 1e-8);
      const vars = net.trainableWeights.map((w) => w.read());
      const X = batches.map((b) => tf.tensor(toNhwc(b.x, [BATCH, 1, 28, 28]), [BATCH, 28, 28, 1], 'float32'));
      const Y = batches.map((b) => tf.tensor(oneHot(b.y), [BATCH, CLASSES], 'float32'));
      const lossOf = (b) => tf.losses.softmaxCrossEntropy(Y[b], net.apply(X[b], { training: true })); // mean over the batch
      const read = async (t) => {
        try { return backend === 'webgpu' ? (await t.data())[0] : t.dataSync()[0]; } finally { t.dispose(); }
      };
      return {
        activate: () => tf.setBackend(backend),
        // optimizer.minimize: the gradients of the loss with respect to the model's variables
        // (tf.variableGrads), then Adam's update of each; returns the loss.
        step: (b) => read(optimizer.minimize(() => lossOf(b), true, vars)),
        evalLoss: (b) => read(tf.tidy(() => lossOf(b))),
        live: () => tf.memory().numTensors,
        release() {
          optimizer.dispose();
          net.dispose();
          tf.dispose([...X, ...Y]);
        },
      };
    },
  });
  return ['cpu', 'wasm', 'webgpu'].map((b) => (reasons[b] ? { id: `tfjs-${b}`, reason: reasons[b] } : make(b)));
}

// ---------------------------------------------------------------------------------------------
// Measurement
// ---------------------------------------------------------------------------------------------

const relDiff = (a, b) => Math.abs(a - b) / Math.max(Math.abs(b), 1e-30);

/** One timed step: wall-clock and process CPU ms. */
async function timedStep(p, b) {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  const loss = await p.step(b);
  const ms = performance.now() - t0;
  const c = process.cpuUsage(c0);
  return { ms, cpuMs: (c.user + c.system) / 1000, loss };
}

async function runModel(model, rows, batches, init, initNote) {
  const res = {};
  const active = [];
  // 1. Prepare and check: from the same initial weights, one step on batch 0 (its loss is the
  //    loss before the update), then the loss on batch 0 again (after the update).
  for (const row of rows) {
    const r = (res[row.id] = { stepMs: null, cpuMs: null, samplesPerSec: null, runs: 0, loss0: null, loss1: null, check: null, notes: [], leaks: [] });
    if (row.reason) { r.notes.push(`n/a: ${row.reason}`); continue; }
    let p;
    try {
      p = await row.prepare(model, init, batches);
      r.loss0 = await p.step(0);
      r.loss1 = await p.evalLoss(0);
      if (!Number.isFinite(r.loss0) || !Number.isFinite(r.loss1)) throw new Error(`non-finite loss (${r.loss0}, ${r.loss1})`);
      active.push({ row, p, r, times: [], cpu: [], total: 0, b: 1, slow: false });
    } catch (e) {
      r.notes.push(`n/a: ${firstLine(e)}`);
      try { p?.release(); } catch { /* partly built */ }
    }
  }
  // The check: every row against ours on the same class of backend (ours-cpu first).
  const oursRef = res['ours-cpu']?.loss0 != null ? 'ours-cpu' : res['ours-webgpu']?.loss0 != null ? 'ours-webgpu' : null;
  for (const { row, r } of active) {
    if (!init) { r.notes.push(initNote); continue; }
    if (!oursRef || row.id === oursRef) continue;
    const ref = res[oursRef];
    const d0 = relDiff(r.loss0, ref.loss0);
    const d1 = relDiff(r.loss1, ref.loss1);
    r.check = { against: oursRef, loss0RelDiff: d0, loss1RelDiff: d1, ok: d0 <= TOL && d1 <= TOL };
  }
  for (const { row, r } of active) {
    const c = r.check;
    progress(`  ${row.id.padEnd(12)} loss ${r.loss0.toFixed(6)} → ${r.loss1.toFixed(6)} after one step${c ? `; vs ${c.against}: ${c.loss0RelDiff.toExponential(1)}, ${c.loss1RelDiff.toExponential(1)} ${c.ok ? '✓' : '✗'}` : ''}`);
  }

  // 2. Warm-up, then blocks of steps, the libraries taking turns.
  const next = (s) => { const b = s.b; s.b = (s.b + 1) % N_BATCHES; return b; };
  for (const s of active) {
    try {
      await s.p.activate();
      gc();
      s.liveBefore = s.p.live();
      for (let i = 0; i < PROTOCOL.warmup; i++) {
        const t = await timedStep(s.p, next(s));
        if (t.ms > opts.maxRunMs) { s.slow = true; s.r.notes.push(`warm-up step took ${fmtSeconds(t.ms)} (over --max-run-ms ${opts.maxRunMs}): timed on ${PROTOCOL.slowRuns} steps`); break; }
      }
    } catch (e) {
      s.failed = true;
      s.r.notes.push(`failed in warm-up: ${firstLine(e)}`);
    }
  }
  const done = (s) => s.failed || s.times.length >= PROTOCOL.maxRuns || (s.slow ? s.times.length >= PROTOCOL.slowRuns : s.times.length >= PROTOCOL.minRuns && s.total >= PROTOCOL.minTimeMs);
  while (active.some((s) => !done(s))) {
    for (const s of active) {
      if (done(s)) continue;
      try {
        await s.p.activate();
        const t0 = performance.now();
        do {
          const t = await timedStep(s.p, next(s));
          s.times.push(t.ms);
          s.cpu.push(t.cpuMs);
          s.total += t.ms;
          if (!Number.isFinite(t.loss)) throw new Error(`loss became ${t.loss} while training`);
        } while (performance.now() - t0 < PROTOCOL.blockMs && !done(s));
      } catch (e) {
        s.failed = true;
        s.r.notes.push(`failed while timing: ${firstLine(e)}`);
      }
    }
  }
  for (const s of active) {
    const { r } = s;
    if (s.times.length) {
      r.stepMs = median(s.times);
      r.cpuMs = median(s.cpu);
      r.samplesPerSec = (BATCH * 1000) / r.stepMs;
      r.runs = s.times.length;
    }
    try {
      await s.p.activate();
      gc();
      const after = s.p.live();
      if (after !== s.liveBefore) r.leaks.push(`live tensors ${s.liveBefore} → ${after} over ${PROTOCOL.warmup + r.runs} steps`);
    } catch { /* failed row */ }
    progress(`  ${s.row.id.padEnd(12)} ${r.stepMs === null ? 'n/a' : `${fmtMs(r.stepMs)} ms/step, ${r.samplesPerSec.toFixed(0)} samples/s (${r.runs} steps; cpu ${fmtMs(r.cpuMs)} ms)`}${r.notes.length ? ` — ${r.notes.join('; ')}` : ''}`);
  }
  // Released only now: TF.js counts the live tensors of all its backends together.
  for (const s of active) {
    try { s.p.release(); } catch { /* already released */ }
  }
  gc();
  return res;
}

/** The main example's loop (examples/mnist/train.mjs) for one epoch of 8,000 digits, ours on the CPU. */
async function epochTime(lib, model) {
  const { ml } = lib;
  const { trainMnist } = await import('../../examples/mnist/train.mjs');
  let last = null;
  const liveBefore = ml.memory().tensors;
  const out = await trainMnist({ model: model.id, epochs: 1, batchSize: BATCH, lr: LR, seed: 0, onProgress: (p) => { if (!p.done) last = p; } });
  out.model.dispose();
  const h = out.history[0];
  const samples = last.step * BATCH; // 8,000 = 125 full batches
  return {
    samples,
    steps: last.steps,
    trainSeconds: samples / last.samplesPerSecond, // the training loop, data loading and loss reads included
    epochSeconds: h.seconds, // plus the evaluation on the 2,000 test digits
    samplesPerSec: last.samplesPerSecond,
    loss: h.loss,
    trainAccuracy: h.trainAccuracy,
    testAccuracy: h.testAccuracy,
    liveDelta: ml.memory().tensors - liveBefore,
  };
}

// ---------------------------------------------------------------------------------------------

async function main() {
  const machine = machineInfo();
  const models = MODELS.filter((m) => opts.filters.length === 0 || opts.filters.some((f) => m.name.toLowerCase().includes(f) || m.id.includes(f)));
  if (models.length === 0) progress(`no model matches ${opts.filters.map((f) => JSON.stringify(f)).join(', ')}; models: ${MODELS.map((m) => m.id).join(', ')}`);
  if (typeof globalThis.gc !== 'function') progress('note: run with node --expose-gc to collect garbage between measurements');

  const gpuEnv = opts.gpu ? await setupWebGPU() : { reason: 'run with --gpu' };
  if (opts.gpu) progress(`WebGPU: ${gpuEnv.reason ?? `${gpuEnv.adapter.name}${gpuEnv.software ? ' (software adapter: the GPU rows only show that it runs)' : ''}`}`);
  const lib = await loadMl();
  const cpuBackend = lib.ml?.getBackend();
  const builders = await loadBuilders();
  const loaded = [...(await loadOurs(lib, builders, gpuEnv)), ...(await loadTfjs(gpuEnv))];
  const byId = Object.fromEntries(loaded.map((l) => [l.id, l]));
  const wanted = (l) => (opts.libs.length ? opts.libs.includes(l.id) : !l.gpu || opts.gpu);
  const ids = LIBS.filter(wanted).map((l) => l.id);
  for (const id of ids) if (byId[id].reason) progress(`${id}: n/a (${byId[id].reason})`);
  if (lib.reason) throw new Error(lib.reason); // the data comes from @ml/data

  const batches = await loadData(lib.ml, lib.data);
  const results = [];
  for (const model of models) {
    progress(model.name);
    let init = null;
    let initNote = null;
    try {
      if (builders.reason) throw new Error(builders.reason);
      lib.ml.setBackend(cpuBackend);
      init = initialWeights(lib, builders.builders, model);
    } catch (e) {
      initNote = `no check: our model cannot be built, so TF.js starts from its own initial weights (${firstLine(e)})`;
    }
    const libs = await runModel(model, ids.map((id) => byId[id]), batches, init, initNote);
    let epoch = null;
    if (opts.epoch && !opts.quick && libs['ours-cpu']?.stepMs != null) {
      progress('  main example loop, one epoch (ours, cpu)…');
      try {
        lib.ml.setBackend(cpuBackend);
        epoch = await epochTime(lib, model);
        progress(`  epoch: ${epoch.samples} samples in ${epoch.trainSeconds.toFixed(2)} s (${epoch.samplesPerSec.toFixed(0)} samples/s), test accuracy ${(epoch.testAccuracy * 100).toFixed(1)}%`);
      } catch (e) {
        epoch = { error: firstLine(e) };
        progress(`  epoch: failed: ${epoch.error}`);
      }
    }
    results.push({ model, libs, epoch });
  }

  // Targets and ratios: ours ÷ peer in samples/s (= peer ms / ours ms), on the same class of backend.
  const ratio = (row, id) => {
    const base = LIBS.find((l) => l.id === id).base;
    const a = row.libs[base]?.samplesPerSec;
    const b = row.libs[id]?.samplesPerSec;
    return a && b ? a / b : null;
  };
  const cpuRatio = (row, id) => {
    const base = LIBS.find((l) => l.id === id).base;
    const a = row.libs[base]?.cpuMs;
    const b = row.libs[id]?.cpuMs;
    return a && b ? b / a : null;
  };
  const targets = [];
  const info = [];
  for (const row of results) {
    const ours = row.libs['ours-cpu'];
    const peer = row.libs['tfjs-cpu'];
    const t = { model: row.model.id, label: `${row.model.id}: ours (cpu) ≥ ${TARGET}× tfjs-cpu samples/s` };
    if (!ours || !peer) { t.status = 'SKIP'; t.detail = `${!ours ? 'ours-cpu' : 'tfjs-cpu'} not run (--lib)`; }
    else if (ours.samplesPerSec == null || peer.samplesPerSec == null) { t.status = 'SKIP'; t.detail = `no time for ${ours.samplesPerSec == null ? 'ours-cpu' : 'tfjs-cpu'}`; }
    else {
      t.ratio = ratio(row, 'tfjs-cpu');
      t.cpuRatio = cpuRatio(row, 'tfjs-cpu');
      const checked = peer.check?.ok !== false;
      t.status = t.ratio >= TARGET && checked ? 'PASS' : 'FAIL';
      t.detail = `${t.ratio.toFixed(2)}× (${ours.samplesPerSec.toFixed(0)} vs ${peer.samplesPerSec.toFixed(0)} samples/s; in CPU time ${t.cpuRatio?.toFixed(2) ?? '–'}×)${checked ? '' : '; the losses disagree'}`;
    }
    targets.push(t);
    for (const id of ['tfjs-wasm', 'tfjs-webgpu']) {
      const p = row.libs[id];
      const base = LIBS.find((l) => l.id === id).base;
      if (!p || !row.libs[base]) continue;
      const r = ratio(row, id);
      info.push({ model: row.model.id, label: `${row.model.id}: ${base} ÷ ${id}`, ratio: r, detail: r === null ? `n/a (${row.libs[base].samplesPerSec == null ? base : id} not timed, see the notes)` : `${r.toFixed(2)}× (${row.libs[base].samplesPerSec.toFixed(0)} vs ${p.samplesPerSec.toFixed(0)} samples/s)` });
    }
    const w = row.libs['ours-wasm'];
    const tw = row.libs['tfjs-wasm'];
    if (w && tw) {
      const r = w.samplesPerSec && tw.samplesPerSec ? w.samplesPerSec / tw.samplesPerSec : null;
      const detail = r === null ? 'n/a (not timed, see the notes)' : `${r.toFixed(2)}× (${w.samplesPerSec.toFixed(0)} vs ${tw.samplesPerSec.toFixed(0)} samples/s)`;
      if (row.model.id === 'mlp') {
        // the WebAssembly path's target: the MNIST MLP trains ≥ 2× as fast as on TF.js wasm
        const checked = w.check?.ok !== false && tw.check?.ok !== false;
        const status = r === null ? 'SKIP' : r >= TARGET && checked ? 'PASS' : 'FAIL';
        targets.push({ model: row.model.id, label: `mlp: ours (cpu+wasm) ≥ ${TARGET}× tfjs-wasm samples/s`, status, ratio: r, detail: detail + (checked ? '' : '; the losses disagree') });
      } else {
        info.push({ model: row.model.id, label: `${row.model.id}: ours-wasm ÷ tfjs-wasm`, ratio: r, detail });
      }
    }
  }

  const versions = Object.fromEntries(ids.map((id) => [id, byId[id].version ?? null]));
  const json = {
    suite: 'nn',
    machine: { ...machine, ...(opts.gpu ? { gpu: gpuEnv.adapter?.name ?? null, gpuSoftware: gpuEnv.software, gpuDriver: gpuEnv.driver } : {}) },
    versions,
    commit: gitCommit(),
    config: { quick: opts.quick, filters: opts.filters, libs: ids, gpu: opts.gpu, batch: BATCH, lr: LR, optimizer: 'Adam(betas 0.9, 0.999, eps 1e-8)', dtype: 'float32', batchesCycled: N_BATCHES, ...PROTOCOL, maxRunMs: opts.maxRunMs, tolerance: TOL, target: TARGET },
    date: new Date().toISOString(),
    results: results.map((row) => ({
      name: row.model.name,
      model: row.model.describe,
      value: row.libs['ours-cpu']?.samplesPerSec ?? null,
      unit: 'samples/s',
      ...(row.libs['ours-webgpu'] ? { oursWebgpu: row.libs['ours-webgpu'].samplesPerSec } : {}),
      peers: Object.fromEntries(ids.filter((id) => !LIBS.find((l) => l.id === id).ours).map((id) => [id, row.libs[id].samplesPerSec])),
      ratios: Object.fromEntries(ids.filter((id) => LIBS.find((l) => l.id === id).base).map((id) => [id, ratio(row, id)])),
      libs: row.libs,
      epoch: row.epoch,
    })),
    targets: targets.map(({ label, status, ratio: r, cpuRatio: c, detail }) => ({ name: label, status, ratio: r ?? null, cpuRatio: c ?? null, need: TARGET, detail })),
    info: info.map(({ label, ratio: r, detail }) => ({ name: label, ratio: r, detail })),
  };
  if (opts.out) writeFileSync(resolve(opts.out), JSON.stringify(json, null, 2) + '\n');
  if (opts.json) {
    stdoutWrite(JSON.stringify(json, null, 2) + '\n');
    return;
  }
  stdoutWrite(renderText(json, ids, results, targets, info, gpuEnv));
}

function renderText(json, ids, results, targets, info, gpuEnv) {
  const { machine, versions } = json;
  const lines = [];
  lines.push(`machine: ${machine.cpu}, ${machine.cores} cores, ${machine.memoryGiB} GiB, node ${machine.node}, ${machine.platform} ${machine.arch}; load ${machine.loadavg.join(' ')} at start, ${os.loadavg().map((l) => l.toFixed(2)).join(' ')} at the end`);
  const busy = Math.max(machine.loadavg[0], os.loadavg()[0] - 1);
  if (busy > machine.cores / 2) lines.push(`warning: other work was running (1-minute load ~${busy.toFixed(2)} besides this run, ${machine.cores} cores): expect noisy numbers`);
  if (opts.gpu) lines.push(`webgpu: ${gpuEnv.reason ?? `${gpuEnv.adapter.name}${gpuEnv.software ? ' — a software adapter: the webgpu rows only show that it runs' : ''}`}`);
  lines.push(`versions: ${ids.map((id) => `${id} ${versions[id] ?? 'n/a'}`).join(', ')}; commit ${json.commit ?? 'unknown'}`);
  lines.push(`protocol: one step = forward + softmax cross-entropy + backward + Adam(lr ${LR}) on a batch of ${BATCH} real MNIST digits (float32), cycling through ${N_BATCHES} batches;`);
  lines.push(`  ${PROTOCOL.warmup} warm-up steps, then blocks of ≥ ${PROTOCOL.blockMs} ms per library in turn until each has ≥ ${PROTOCOL.minRuns} steps and ≥ ${PROTOCOL.minTimeMs} ms; median step time`);
  lines.push('');
  const header = ['model', 'library', 'ms/step', 'samples/s', 'cpu ms/step', 'ours ÷ peer', 'loss after 1 step', 'check'];
  const notes = [];
  const rows = [];
  for (const row of results) {
    ids.forEach((id, i) => {
      const x = row.libs[id];
      const def = LIBS.find((l) => l.id === id);
      let mark = '';
      if (x.notes.length || x.leaks.length) {
        notes.push(`[${notes.length + 1}] ${row.model.id}, ${id}: ${[...x.notes, ...x.leaks.map((l) => `LEAK ${l}`)].join('; ')}`);
        mark = ` [${notes.length}]`;
      }
      const base = def.base && row.libs[def.base]?.samplesPerSec;
      rows.push([
        i === 0 ? row.model.name : '',
        def.label + mark,
        x.stepMs === null ? 'n/a' : fmtMs(x.stepMs),
        x.samplesPerSec === null ? 'n/a' : x.samplesPerSec.toFixed(0),
        x.cpuMs === null ? 'n/a' : fmtMs(x.cpuMs),
        def.ours ? '' : base && x.samplesPerSec ? `${(base / x.samplesPerSec).toFixed(2)}x` : '–',
        x.loss1 === null ? '–' : x.loss1.toFixed(6),
        x.check ? (x.check.ok ? '✓' : '✗ MISMATCH') : def.ours && x.loss1 !== null ? 'ref' : '–',
      ]);
    });
  }
  const body = table(header, rows);
  // the library column left-aligned too
  lines.push(...body);
  lines.push('');
  lines.push('ours ÷ peer: samples/s of ours on the same class of backend (cpu for tfjs-cpu and tfjs-wasm, webgpu for tfjs-webgpu) ÷ the row\'s; above 1x means ours is faster.');
  lines.push('TF.js: tf.sequential of the same layers (NHWC), step = optimizer.minimize(loss, true, vars) with tf.train.adam(1e-3, 0.9, 0.999, 1e-8) and tf.losses.softmaxCrossEntropy.');
  lines.push(`check: every library starts from our initial weights (copied into TF.js, transposed to its layouts); the loss of one step on batch 0 and the loss on batch 0 after that step agree with ${results.length && results[0].libs['ours-cpu'] ? 'ours (cpu)' : 'ours'} within ${TOL} (relative):`);
  for (const row of results) {
    for (const id of ids) {
      const x = row.libs[id];
      if (x.loss0 === null) continue;
      const c = x.check;
      lines.push(`  ${row.model.id.padEnd(6)} ${id.padEnd(12)} loss ${x.loss0.toFixed(6)} → ${x.loss1.toFixed(6)}${c ? `  vs ${c.against}: ${c.loss0RelDiff.toExponential(1)} before, ${c.loss1RelDiff.toExponential(1)} after ${c.ok ? '✓' : '✗'}` : ''}`);
    }
  }
  const leaky = results.flatMap((r) => ids.filter((id) => r.libs[id].leaks.length).map((id) => `${r.model.id}/${id}`));
  lines.push(leaky.length ? `warning: live tensors not flat for ${leaky.join(', ')} (see notes)` : 'memory: live-tensor counts flat over the timed steps for every row (ours: memory().tensors; TF.js: tf.memory().numTensors)');
  const epochs = results.filter((r) => r.epoch);
  if (epochs.length) {
    lines.push('');
    lines.push('the main example\'s loop (examples/mnist/train.mjs: DataLoader with shuffling, the step above, loss and accuracy read every step), one epoch of 8,000 digits, ours on the cpu:');
    for (const r of epochs) {
      const e = r.epoch;
      lines.push(e.error ? `  ${r.model.id}: failed: ${e.error}` : `  ${r.model.id.padEnd(6)} ${e.trainSeconds.toFixed(2)} s for ${e.samples} samples (${e.samplesPerSec.toFixed(0)} samples/s), ${e.epochSeconds.toFixed(2)} s with the test pass; loss ${e.loss.toFixed(3)}, test accuracy ${(e.testAccuracy * 100).toFixed(1)}%${e.liveDelta ? `; ${e.liveDelta} tensors left live` : ''}`);
    }
  }
  if (notes.length) {
    lines.push('');
    lines.push(...notes);
  }
  lines.push('');
  lines.push(`targets: with the CPU backend, ours ≥ ${TARGET}× tfjs-cpu in samples/s on both models; with its WebAssembly kernels, ≥ ${TARGET}× tfjs-wasm on the MLP:`);
  for (const t of targets) lines.push(`  ${t.status.padEnd(4)}  ${t.label}: ${t.detail}`);
  if (info.length) {
    lines.push('for information:');
    for (const t of info) lines.push(`  ${t.label}: ${t.detail}`);
  }
  return lines.join('\n') + '\n';
}

try {
  await main();
} catch (e) {
  // A benchmark reports; it does not fail the build.
  process.stderr.write(`benchmark aborted: ${e instanceof Error ? e.stack : String(e)}\n`);
}
process.exit(0);

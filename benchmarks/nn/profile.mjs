#!/usr/bin/env node
// Where does our MNIST training step spend its time? Runs the nn suite's step (the main example's
// model, crossEntropy, backward, Adam) on the CPU backend and reports:
//
//   1. the step split into its phases (forward, loss, backward, optimizer step, zeroGrad), in
//      wall-clock and CPU time (medians per step), and how many kernels each phase dispatches;
//   2. the time in each CPU kernel (the backend's kernel dispatch wrapped with a timer), by kernel
//      and phase; what a phase spends outside its kernels is JavaScript around them;
//   3. the top functions by self time of a V8 CPU profile of the steps (`node --cpu-prof` in a
//      child process, no hook installed).
//
//   node nn/profile.mjs [--model mlp|lenet] [--wasm] [--steps <n>] [--top <n>] [--keep <file.cpuprofile>]
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import { profileChild } from '../common/cpu-profile.mjs';
import { BATCH, LR, MODELS } from './models.mjs';

const USAGE = `usage: node nn/profile.mjs [options]

  --model <id>        ${MODELS.map((m) => m.id).join(' or ')} (default lenet)
  --wasm              the CPU backend with its WebAssembly kernels (all cores)
  --steps <n>         training steps to time and profile (default 40)
  --top <n>           ops and functions to list (default 20)
  --keep <file>       also save the .cpuprofile
  --help              this text`;

function parseArgs(argv) {
  const o = { model: 'lenet', wasm: false, steps: 40, top: 20, keep: null, child: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = () => {
      if (i + 1 >= argv.length) fail(`${a} needs a value`);
      return argv[++i];
    };
    switch (a) {
      case '--model': o.model = value(); break;
      case '--steps': o.steps = Number(value()); break;
      case '--top': o.top = Number(value()); break;
      case '--keep': o.keep = value(); break;
      case '--wasm': o.wasm = true; break;
      case '--child': o.child = true; break;
      case '--help': case '-h': process.stdout.write(USAGE + '\n'); process.exit(0); break;
      default: fail(`unknown option ${a}`);
    }
  }
  if (!MODELS.some((m) => m.id === o.model)) fail(`unknown model ${o.model}`);
  if (!(o.steps > 0) || !(o.top > 0)) fail('--steps and --top need positive numbers');
  return o;
}

function fail(msg) {
  process.stderr.write(`${msg}\n\n${USAGE}\n`);
  process.exit(2);
}

const opts = parseArgs(process.argv.slice(2));
const model = MODELS.find((m) => m.id === opts.model);
const PHASES = ['forward', 'loss', 'backward', 'opt.step', 'zeroGrad'];

/** The suite's step for ours on the CPU, split into phases: `run(b, mark)` calls mark(phase) after each. */
async function build() {
  const ml = await import('@ml/tensor');
  const ag = await import('@ml/autograd');
  const nn = await import('@ml/nn');
  const optim = await import('@ml/optim');
  const data = await import('@ml/data');
  if (opts.wasm) ml.setBackend(ml.createCpuBackend({ wasm: await ml.loadWasmRuntime() }));
  const { MODELS: builders } = await import('../../examples/mnist/models.mjs');
  nn.manualSeed(0);
  const net = builders[model.id]();
  const opt = new optim.Adam(net.parameters(), { lr: LR });
  const { train, test } = await data.mnistSplit(ml.random.key(0));
  const X = [];
  const Y = [];
  for (let b = 0; b < 8; b++) {
    X.push(ml.tensor(train.images.slice([[b * BATCH, (b + 1) * BATCH]]).dataSync(), { shape: [BATCH, 1, 28, 28] }));
    Y.push(ml.tensor(train.labels.slice([[b * BATCH, (b + 1) * BATCH]]).dataSync(), { shape: [BATCH], dtype: 'int32' }));
  }
  for (const t of [train.images, train.labels, test.images, test.labels]) t.dispose();
  const run = (b, mark = () => {}) => {
    const loss = ml.scope(() => {
      const logits = net.forward(X[b]);
      mark('forward');
      const l = nn.crossEntropy(logits, Y[b]);
      mark('loss');
      ag.backward(l);
      mark('backward');
      opt.step();
      mark('opt.step');
      opt.zeroGrad();
      mark('zeroGrad');
      return l;
    });
    const v = loss.dataSync()[0];
    loss.dispose();
    return v;
  };
  return { ml, run };
}

const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];

if (opts.child) {
  const { run } = await build();
  for (let i = 0; i < 5; i++) run(i % 8);
  for (let i = 0; i < opts.steps; i++) run(i % 8);
  process.exit(0);
}

const { ml, run } = await build();
for (let i = 0; i < 5; i++) run(i % 8);

// ---- 1 and 2: phases and kernels. The CPU backend's `run` (every kernel dispatch) is wrapped
// with a timer on this instance; the time of a phase outside its kernels is JavaScript: op
// validation, shape logic, autograd's recording, tensor bookkeeping, scopes.
let phase = 'forward';
const backend = ml.getBackend();
const kernelStats = new Map(); // `${phase}\0${op}` -> { ms, calls }
const shapeStats = new Map(); //  matmul, im2col and col2im calls by shapes
const plainRun = backend.run;
backend.run = function timedRun(op, ...args) {
  const t0 = performance.now();
  try {
    return plainRun.call(this, op, ...args);
  } finally {
    const k = `${phase}\u0000${op}`;
    const s = kernelStats.get(k) ?? { ms: 0, calls: 0 };
    s.ms += performance.now() - t0;
    s.calls++;
    kernelStats.set(k, s);
    if (op === 'matmul' || op === 'im2col' || op === 'col2im') {
      const [inputs, outputs] = args;
      const ks = `${op} ${inputs.map((v) => `(${v.shape.join(', ')})${v.strides.join(',') === contiguous(v.shape).join(',') ? '' : ' strided'}`).join(' @ ')} → (${outputs[0].shape.join(', ')})  [${phase}]`;
      const e = shapeStats.get(ks) ?? { ms: 0, calls: 0 };
      e.ms += performance.now() - t0;
      e.calls++;
      shapeStats.set(ks, e);
    }
  }
};
function contiguous(shape) {
  const st = new Array(shape.length);
  let acc = 1;
  for (let d = shape.length - 1; d >= 0; d--) { st[d] = acc; acc *= shape[d]; }
  return st;
}
const phaseWall = Object.fromEntries(PHASES.map((p) => [p, []]));
const phaseCpu = Object.fromEntries(PHASES.map((p) => [p, []]));
const stepWall = [];
const stepCpu = [];
for (let i = 0; i < opts.steps; i++) {
  let t = performance.now();
  let c = process.cpuUsage();
  const t0 = t;
  const c0 = c;
  phase = 'forward';
  run(i % 8, (p) => {
    const now = performance.now();
    const cu = process.cpuUsage();
    phaseWall[p].push(now - t);
    phaseCpu[p].push((cu.user - c.user + cu.system - c.system) / 1000);
    t = now;
    c = cu;
    phase = PHASES[PHASES.indexOf(p) + 1] ?? 'readback';
  });
  stepWall.push(performance.now() - t0);
  const c1 = process.cpuUsage(c0);
  stepCpu.push((c1.user + c1.system) / 1000);
}
backend.run = plainRun;

const per = (f) => [...kernelStats.entries()].filter(([k]) => f(k.split('\u0000')[0])).reduce((a, [, s]) => ({ ms: a.ms + s.ms / opts.steps, calls: a.calls + s.calls / opts.steps }), { ms: 0, calls: 0 });
const out = [];
out.push(`${model.name}, ours on the cpu, ${opts.steps} steps (kernel timers installed); load ${os.loadavg().map((l) => l.toFixed(2)).join(' ')} on ${os.cpus().length} cores`);
out.push(`step: ${median(stepWall).toFixed(1)} ms wall, ${median(stepCpu).toFixed(1)} ms cpu (medians); in kernels ${per(() => true).ms.toFixed(1)} ms (mean)`);
out.push('');
out.push('phases (wall and cpu: medians per step; kernels: mean ms per step and dispatches):');
for (const p of PHASES) {
  const k = per((x) => x === p);
  out.push(`  ${p.padEnd(10)} ${median(phaseWall[p]).toFixed(2).padStart(8)} ms wall ${median(phaseCpu[p]).toFixed(2).padStart(8)} ms cpu  ${k.ms.toFixed(2).padStart(8)} ms in ${String(k.calls).padStart(4)} kernels`);
}
const total = median(stepWall);
const byOp = new Map();
for (const [k, s] of kernelStats) {
  const op = k.split('\u0000')[1];
  const e = byOp.get(op) ?? { ms: 0, calls: 0, phases: new Map() };
  e.ms += s.ms / opts.steps;
  e.calls += s.calls / opts.steps;
  const ph = k.split('\u0000')[0];
  e.phases.set(ph, (e.phases.get(ph) ?? 0) + s.ms / opts.steps);
  byOp.set(op, e);
}
out.push('');
out.push(`kernels by time per step (mean), top ${opts.top}:`);
for (const [op, e] of [...byOp.entries()].sort((a, b) => b[1].ms - a[1].ms).slice(0, opts.top)) {
  const where = [...e.phases.entries()].sort((a, b) => b[1] - a[1]).map(([p, ms]) => `${p} ${ms.toFixed(1)}`).join(', ');
  out.push(`  ${op.padEnd(16)} ${e.ms.toFixed(2).padStart(8)} ms  ${String(e.calls).padStart(4)} call(s)  ${((100 * e.ms) / total).toFixed(1).padStart(5)}% of the step  (${where})`);
}

out.push('');
out.push('matmul, im2col and col2im by shapes (mean ms per step; "strided": an input that is not contiguous):');
for (const [k, e] of [...shapeStats.entries()].sort((a, b) => b[1].ms - a[1].ms)) {
  out.push(`  ${(e.ms / opts.steps).toFixed(2).padStart(8)} ms  ${k}`);
}

// ---- 3: CPU profile of the steps in a child process
out.push('', ...profileChild([fileURLToPath(import.meta.url), '--child', '--model', opts.model, '--steps', String(opts.steps), ...(opts.wasm ? ['--wasm'] : [])], { top: opts.top, keep: opts.keep, note: 'data loading included' }));
process.stdout.write(out.join('\n') + '\n');

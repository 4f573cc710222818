#!/usr/bin/env node
// Where does @ml/autograd's training step spend its time? Runs our forward + backward on one of
// the suite's models and reports:
//
//   1. the time per gradient rule (each rule's vjp wrapped with a timer), next to the forward
//      pass and the step as a whole, so the bookkeeping around the rules shows as the remainder;
//   2. the top functions by self time of a V8 CPU profile of the steps, taken with
//      `node --cpu-prof` in a child process (the rules are not wrapped there).
//
//   node autograd/profile.mjs [--model mlp|cnn] [--style grad|backward] [--steps <n>] [--top <n>]
//                             [--keep <file.cpuprofile>]
//
// --keep saves the raw profile (open it in Chrome DevTools' Performance panel).
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import { profileChild } from '../common/cpu-profile.mjs';
import { MODELS } from './models.mjs';

const USAGE = `usage: node autograd/profile.mjs [options]

  --model <id>        ${MODELS.map((m) => m.id).join(' or ')} (default cnn)
  --style <s>         grad (valueAndGrad, default) or backward (requiresGrad + backward())
  --steps <n>         forward + backward steps to time and profile (default 60)
  --top <n>           functions to list (default 20)
  --keep <file>       also save the .cpuprofile
  --help              this text`;

function parseArgs(argv) {
  const o = { model: 'cnn', style: 'grad', steps: 60, top: 20, keep: null, child: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = () => {
      if (i + 1 >= argv.length) fail(`${a} needs a value`);
      return argv[++i];
    };
    switch (a) {
      case '--model': o.model = value(); break;
      case '--style': o.style = value(); break;
      case '--steps': o.steps = Number(value()); break;
      case '--top': o.top = Number(value()); break;
      case '--keep': o.keep = value(); break;
      case '--child': o.child = true; break;
      case '--help': case '-h': process.stdout.write(USAGE + '\n'); process.exit(0); break;
      default: fail(`unknown option ${a}`);
    }
  }
  if (!MODELS.some((m) => m.id === o.model)) fail(`unknown model ${o.model}`);
  if (o.style !== 'grad' && o.style !== 'backward') fail(`unknown style ${o.style}`);
  if (!(o.steps > 0) || !(o.top > 0)) fail('--steps and --top need positive numbers');
  return o;
}

function fail(msg) {
  process.stderr.write(`${msg}\n\n${USAGE}\n`);
  process.exit(2);
}

const opts = parseArgs(process.argv.slice(2));
const model = MODELS.find((m) => m.id === opts.model);

/** Our model on the suite's data: `{ fwd, step, release }` (the same calls run.mjs times). */
async function build() {
  const ml = await import('@ml/tensor');
  const ag = await import('@ml/autograd');
  const data = model.make();
  const T = (a) => ml.tensor(a.data, { shape: a.shape, dtype: 'float32' });
  const params = Object.fromEntries(Object.entries(data.params).map(([k, v]) => [k, T(v)]));
  const x = T(data.x);
  const y = T(data.y);
  const f = model.ours(ml);
  const list = Object.values(params);
  const fwd = () => ml.scope(() => void f(params, x, y).dataSync());
  let step;
  if (opts.style === 'grad') {
    const vg = ag.valueAndGrad(f);
    step = () => ml.scope(() => void vg(params, x, y)[0].dataSync());
  } else {
    for (const p of list) ag.requiresGrad(p);
    step = () => {
      ml.scope(() => {
        const l = f(params, x, y);
        ag.backward(l);
        l.dataSync();
      });
      ag.zeroGrad(list);
    };
  }
  return { ml, ag, fwd: opts.style === 'grad' ? fwd : () => ag.noGrad(fwd), step };
}

const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];

if (opts.child) {
  // Profiled child: warm up, then only the steps.
  const { step } = await build();
  for (let i = 0; i < 5; i++) step();
  for (let i = 0; i < opts.steps; i++) step();
  process.exit(0);
}

// ---- 1. time per gradient rule
const { ag, fwd, step } = await build();
const ruleMs = new Map();
let timing = false;
for (const [op, rule] of Object.entries(ag.GRAD_RULES)) {
  const vjp = rule.vjp;
  rule.vjp = function timedVjp(...args) {
    if (!timing) return vjp.apply(this, args);
    const t0 = performance.now();
    try {
      return vjp.apply(this, args);
    } finally {
      const r = ruleMs.get(op) ?? { ms: 0, calls: 0 };
      r.ms += performance.now() - t0;
      r.calls++;
      ruleMs.set(op, r);
    }
  };
}
for (let i = 0; i < 5; i++) { fwd(); step(); }
const fwdTimes = [];
const stepTimes = [];
timing = true;
for (let i = 0; i < opts.steps; i++) {
  let t0 = performance.now();
  step();
  stepTimes.push(performance.now() - t0);
}
timing = false;
for (let i = 0; i < opts.steps; i++) {
  const t0 = performance.now();
  fwd();
  fwdTimes.push(performance.now() - t0);
}
const stepMean = stepTimes.reduce((a, b) => a + b, 0) / opts.steps;
const fwdMs = median(fwdTimes);
const out = [];
out.push(`${model.name}, ${opts.style === 'grad' ? 'valueAndGrad' : 'requiresGrad + backward()'}, ${opts.steps} steps; load ${os.loadavg()[0].toFixed(2)} on ${os.cpus().length} cores`);
out.push(`forward alone (median) ${fwdMs.toFixed(2)} ms; forward + backward (mean, rules timed) ${stepMean.toFixed(2)} ms`);
out.push('');
out.push('time in gradient rules per step (inclusive of the tensor ops each rule runs):');
let rulesTotal = 0;
const rows = [...ruleMs.entries()].map(([op, r]) => ({ op, ms: r.ms / opts.steps, calls: r.calls / opts.steps })).sort((a, b) => b.ms - a.ms);
for (const r of rows) {
  rulesTotal += r.ms;
  out.push(`  ${r.op.padEnd(12)} ${r.ms.toFixed(2).padStart(8)} ms  ${String(r.calls).padStart(3)} call(s)  ${((100 * r.ms) / stepMean).toFixed(1).padStart(5)}% of the step`);
}
const rest = stepMean - fwdMs - rulesTotal;
out.push(`  ${'all rules'.padEnd(12)} ${rulesTotal.toFixed(2).padStart(8)} ms`);
out.push(`  remainder: step − forward − rules = ${rest.toFixed(2)} ms (recording, saving, cotangent accumulation, scopes)`);

// ---- 2. CPU profile of the steps in a child process
out.push('', ...profileChild([fileURLToPath(import.meta.url), '--child', '--model', opts.model, '--style', opts.style, '--steps', String(opts.steps)], { top: opts.top, keep: opts.keep }));
process.stdout.write(out.join('\n') + '\n');

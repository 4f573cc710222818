#!/usr/bin/env node
// Host-side cost per op on WebGPU: how long the JavaScript thread spends queueing one small op, and
// how long a one-element read takes, for @ml/tensor on @ml/gpu-webgpu (and TF.js WebGPU, for scale).
//
//   node --expose-gc gpu-webgpu/overhead.mjs [--json] [--ops <n>] [--reps <n>] [--lib <id>] [--out <file.json>]
//
// Small ops are where a GPU backend's own bookkeeping (buffer creation, bind groups, submits)
// shows: the GPU finishes a 1K-element add in microseconds, so queueing it is the cost.
import { parseArgs } from '../common/args.mjs';
import { setupWebGPU } from '../common/webgpu.mjs';
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { firstLine } from '../common/errors.mjs';
import { table } from '../common/format.mjs';
import { gitCommit, machineInfo, packageVersion } from '../common/machine.mjs';
import { consoleToStderr, gc, progress, stdoutWrite } from '../common/output.mjs';
import { median } from '../common/timing.mjs';

const LIB_IDS = ['ours', 'tfjs-webgpu'];

const USAGE = `usage: node --expose-gc gpu-webgpu/overhead.mjs [options]

  --ops <n>      ops queued per repetition of a queueing case (default 1000)
  --reps <n>     repetitions of each case; the median is reported (default 7)
  --lib <id>     only these columns (repeatable): ${LIB_IDS.join(', ')}
  --json         print one JSON object on stdout (progress goes to stderr)
  --out <file>   also write the JSON object to <file>
  --help         this text`;

const parseOptions = (argv) => parseArgs(argv, USAGE, {
  '--json': ['json', 'on'],
  '--ops': ['ops', 'count'],
  '--reps': ['reps', 'count'],
  '--lib': ['libs', 'oneOf', LIB_IDS],
  '--out': ['out', 'text'],
}, { json: false, ops: 1000, reps: 7, libs: [], out: null });

const opts = parseOptions(process.argv.slice(2));
if (opts.json) consoleToStderr();

// ---------------------------------------------------------------------------------------------
// WebGPU in Node: one `navigator.gpu` from the `webgpu` package, shared by both libraries
// ---------------------------------------------------------------------------------------------


// ---------------------------------------------------------------------------------------------
// Libraries: make a float32 tensor, add, dispose, wait for the GPU, read one element
// ---------------------------------------------------------------------------------------------

async function loadOurs() {
  const ml = await import('@ml/tensor');
  const { webgpu } = await import('@ml/gpu-webgpu');
  const backend = await webgpu();
  return {
    id: 'ours',
    version: packageVersion('@ml/gpu-webgpu'),
    make: (n) => ml.tensor(Float32Array.from({ length: n }, (_, i) => (i % 17) / 17), { shape: [n], dtype: 'float32', backend }),
    add: (a, b) => ml.add(a, b),
    dispose: (t) => t.dispose(),
    // waits for everything queued (t is the newest output)
    wait: (_t) => backend.sync(),
    read: async (t) => (await t.data())[0],
    live: () => ml.memory(backend),
  };
}

async function loadTfjs() {
  const core = await import('@tensorflow/tfjs-core');
  const tf = typeof core.setBackend === 'function' ? core : core.default;
  await import('@tensorflow/tfjs-backend-webgpu');
  tf.enableProdMode();
  if (!(await tf.setBackend('webgpu'))) throw new Error("tf.setBackend('webgpu') returned false");
  await tf.ready();
  return {
    id: 'tfjs-webgpu',
    version: packageVersion('@tensorflow/tfjs-backend-webgpu'),
    make: (n) => tf.tensor(Float32Array.from({ length: n }, (_, i) => (i % 17) / 17), [n], 'float32'),
    add: (a, b) => tf.add(a, b),
    dispose: (t) => t.dispose(),
    // TF.js has no queue wait: reading one element of the newest output waits for everything
    // queued before it (as in run.mjs)
    wait: async (t) => {
      const one = tf.slice(t, [0], [1]);
      await one.data();
      one.dispose();
    },
    read: async (t) => (await t.data())[0],
    live: () => ({ tensors: tf.memory().numTensors }),
  };
}

// ---------------------------------------------------------------------------------------------
// Cases: each returns ms per op for one repetition
// ---------------------------------------------------------------------------------------------

/** Queues `ops` adds, disposing all but the newest result, which it returns. */
function queueAdds(lib, a, b, ops) {
  let last = lib.add(a, b);
  for (let i = 1; i < ops; i++) {
    lib.dispose(last);
    last = lib.add(a, b);
  }
  return last;
}

const CASES = [
  {
    name: 'queue add 1K (host only)',
    what: `${opts.ops} adds of 1024 elements queued, each result disposed; JS time per add before any wait`,
    n: 1024,
    async rep(lib, [a, b]) {
      const t0 = performance.now();
      const last = queueAdds(lib, a, b, opts.ops);
      const ms = performance.now() - t0;
      await lib.wait(last);
      lib.dispose(last);
      return ms / opts.ops;
    },
  },
  {
    name: 'queue add 1K + wait',
    what: `the same, including the wait for the GPU to finish, per add`,
    n: 1024,
    async rep(lib, [a, b]) {
      const t0 = performance.now();
      const last = queueAdds(lib, a, b, opts.ops);
      await lib.wait(last);
      const ms = performance.now() - t0;
      lib.dispose(last);
      return ms / opts.ops;
    },
  },
  {
    name: 'queue add 1M + wait',
    what: `${Math.max(1, opts.ops / 10)} adds of 2^20 elements queued, then the wait, per add (GPU time shows here)`,
    n: 1 << 20,
    async rep(lib, [a, b]) {
      const ops = Math.max(1, Math.round(opts.ops / 10));
      const t0 = performance.now();
      const last = queueAdds(lib, a, b, ops);
      await lib.wait(last);
      const ms = performance.now() - t0;
      lib.dispose(last);
      return ms / ops;
    },
  },
  {
    name: 'read 1 element',
    what: 'await data() of a 1-element tensor (copy, submit, map, wait), per read; ours only, since TF.js returns the values it keeps on the CPU',
    n: 1,
    only: 'ours',
    async rep(lib, [a]) {
      const reads = Math.max(1, Math.round(opts.ops / 10));
      const t0 = performance.now();
      for (let i = 0; i < reads; i++) await lib.read(a);
      return (performance.now() - t0) / reads;
    },
  },
  {
    name: 'add 1K then read it',
    what: 'one add of 1024 elements and await data() of its result: the round trip of one eager op',
    n: 1024,
    async rep(lib, [a, b]) {
      const reps = Math.max(1, Math.round(opts.ops / 10));
      const t0 = performance.now();
      for (let i = 0; i < reps; i++) {
        const o = lib.add(a, b);
        await lib.read(o);
        lib.dispose(o);
      }
      return (performance.now() - t0) / reps;
    },
  },
];

// ---------------------------------------------------------------------------------------------
// The raw WebGPU calls an op is made of, on a device of their own: what each costs on this driver
// ---------------------------------------------------------------------------------------------

async function rawCalls() {
  const adapter = await navigator.gpu.requestAdapter({ powerPreference: 'high-performance' });
  const device = await adapter.requestDevice();
  const code = `@group(0) @binding(0) var<storage, read> a: array<f32>;
@group(0) @binding(1) var<storage, read_write> o: array<f32>;
@group(0) @binding(2) var<storage, read> info: array<i32>;
@compute @workgroup_size(64) fn main(@builtin(global_invocation_id) g: vec3u) { if (g.x < u32(info[0])) { o[g.x] = a[g.x] + 1.0; } }`;
  const pipeline = device.createComputePipeline({ layout: 'auto', compute: { module: device.createShaderModule({ code }), entryPoint: 'main' } });
  const layout = pipeline.getBindGroupLayout(0);
  const storage = () => device.createBuffer({ size: 4096, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST | GPUBufferUsage.COPY_SRC });
  const A = storage();
  const O = storage();
  const P = device.createBuffer({ size: 65536, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST });
  const words = new Int32Array([1024, 0, 0, 0]);
  device.queue.writeBuffer(P, 0, words);
  const bindGroup = (i) =>
    device.createBindGroup({ layout, entries: [{ binding: 0, resource: { buffer: A } }, { binding: 1, resource: { buffer: O } }, { binding: 2, resource: { buffer: P, offset: (i % 64) * 256, size: 16 } }] });
  const bg = bindGroup(0);
  const staging = device.createBuffer({ size: 256, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
  const N = opts.ops;
  /** µs per call: median over repetitions of N calls (`f(i)` for i < N), with the queue drained between. */
  const time = async (f) => {
    const reps = [];
    for (let r = 0; r <= opts.reps; r++) {
      const t0 = performance.now();
      for (let i = 0; i < N; i++) f(i);
      const us = ((performance.now() - t0) * 1000) / N;
      await device.queue.onSubmittedWorkDone();
      if (r > 0) reps.push(us);
    }
    return median(reps);
  };
  /** Encodes with `each(encoder, i)`, submitting every 64 calls as the backend does. */
  const batched = (each) => {
    let enc = null;
    return (i) => {
      enc ??= device.createCommandEncoder();
      each(enc, i);
      if (i % 64 === 63 || i === N - 1) {
        device.queue.submit([enc.finish()]);
        enc = null;
      }
    };
  };
  let shared = null;
  const rows = [
    ['createBuffer 4 KB storage + destroy', await time(() => storage().destroy())],
    ['createBuffer 64 B mappedAtCreation, unmap, destroy', await time(() => {
      const b = device.createBuffer({ size: 64, usage: GPUBufferUsage.STORAGE, mappedAtCreation: true });
      new Int32Array(b.getMappedRange()).set(words);
      b.unmap();
      b.destroy();
    })],
    ['createBindGroup (3 buffers)', await time((i) => bindGroup(i))],
    ['queue.writeBuffer 16 B', await time((i) => device.queue.writeBuffer(P, (i % 64) * 256, words))],
    ['dispatch in a pass of its own', await time(batched((enc) => {
      const pass = enc.beginComputePass();
      pass.setPipeline(pipeline);
      pass.setBindGroup(0, bg);
      pass.dispatchWorkgroups(16);
      pass.end();
    }))],
    ['dispatch in a shared pass', await time(batched((enc, i) => {
      shared ??= enc.beginComputePass();
      shared.setPipeline(pipeline);
      shared.setBindGroup(0, bg);
      shared.dispatchWorkgroups(16);
      if (i % 64 === 63 || i === N - 1) {
        shared.end();
        shared = null;
      }
    }))],
    ['clearBuffer 4 KB', await time(batched((enc) => enc.clearBuffer(O)))],
    ['submit of an empty command buffer', await time(() => device.queue.submit([device.createCommandEncoder().finish()]))],
  ];
  // a read: copy to a reused staging buffer, submit, map, unmap
  const reads = [];
  for (let r = 0; r < Math.max(20, N / 10); r++) {
    const t0 = performance.now();
    const enc = device.createCommandEncoder();
    enc.copyBufferToBuffer(O, 0, staging, 0, 4);
    device.queue.submit([enc.finish()]);
    await staging.mapAsync(GPUMapMode.READ, 0, 4);
    staging.unmap();
    reads.push((performance.now() - t0) * 1000);
  }
  rows.push(['read 4 B through a reused staging buffer (round trip)', median(reads)]);
  device.destroy();
  return rows.map(([name, us]) => ({ name, us }));
}

async function runCase(lib, c) {
  const inputs = [lib.make(c.n), lib.make(c.n)];
  try {
    await c.rep(lib, inputs); // warm-up: pipelines compile, pools fill
    const times = [];
    for (let r = 0; r < opts.reps; r++) {
      times.push(await c.rep(lib, inputs));
      gc();
    }
    return { ms: median(times), min: Math.min(...times), max: Math.max(...times) };
  } finally {
    for (const t of inputs) lib.dispose(t);
  }
}

function fmt(ms) {
  if (ms === null || ms === undefined) return 'n/a';
  return ms >= 10 ? ms.toFixed(1) : ms >= 1 ? ms.toFixed(2) : ms.toFixed(4);
}

async function main() {
  const env = await setupWebGPU();
  if (env.reason) throw new Error(env.reason);
  const adapter = env.adapter.name;
  progress(`WebGPU adapter: ${adapter}`);
  const libs = [];
  for (const [id, load] of [['ours', loadOurs], ['tfjs-webgpu', loadTfjs]]) {
    if (opts.libs.length && !opts.libs.includes(id)) continue;
    try {
      libs.push(await load());
    } catch (e) {
      libs.push({ id, reason: firstLine(e) });
      progress(`${id}: n/a (${firstLine(e)})`);
    }
  }
  const results = [];
  for (const c of CASES) {
    progress(c.name);
    const row = { name: c.name, what: c.what, libs: {} };
    for (const lib of libs) {
      if (lib.reason || (c.only && c.only !== lib.id)) {
        row.libs[lib.id] = { ms: null, note: lib.reason ?? `not measured (${c.name}: ${c.only} only)` };
        continue;
      }
      try {
        row.libs[lib.id] = await runCase(lib, c);
        progress(`  ${lib.id.padEnd(11)} ${fmt(row.libs[lib.id].ms)} ms/op`);
      } catch (e) {
        row.libs[lib.id] = { ms: null, note: `failed: ${firstLine(e)}` };
        progress(`  ${lib.id.padEnd(11)} failed: ${firstLine(e)}`);
      }
    }
    results.push(row);
  }
  progress('raw WebGPU calls');
  let raw = null;
  try {
    raw = await rawCalls();
  } catch (e) {
    progress(`  failed: ${firstLine(e)}`);
  }
  const ours = libs.find((l) => l.id === 'ours' && !l.reason);
  const json = {
    suite: 'gpu-webgpu-overhead',
    machine: { ...machineInfo(), gpu: { adapter } },
    versions: Object.fromEntries(libs.map((l) => [l.id, l.version ?? null])),
    commit: gitCommit(),
    config: { ops: opts.ops, reps: opts.reps, libs: opts.libs },
    date: new Date().toISOString(),
    results: results.map((r) => ({
      name: r.name,
      what: r.what,
      value: r.libs.ours?.ms ?? null,
      unit: 'ms/op',
      peers: Object.fromEntries(Object.entries(r.libs).filter(([id]) => id !== 'ours').map(([id, v]) => [id, v.ms])),
      spread: Object.fromEntries(Object.entries(r.libs).map(([id, v]) => [id, v.ms === null ? null : { min: v.min, max: v.max }])),
      notes: Object.fromEntries(Object.entries(r.libs).filter(([, v]) => v.note).map(([id, v]) => [id, v.note])),
    })),
    rawCalls: raw,
    oursMemoryAfter: ours ? ours.live() : null,
  };
  if (opts.out) writeFileSync(resolve(opts.out), JSON.stringify(json, null, 2) + '\n');
  if (opts.json) {
    stdoutWrite(JSON.stringify(json, null, 2) + '\n');
    return;
  }
  const ids = libs.map((l) => l.id);
  const lines = [
    `WebGPU adapter: ${adapter}`,
    `machine: ${json.machine.cpu}, ${json.machine.cores} cores, node ${json.machine.node}; commit ${json.commit}`,
    `protocol: one warm-up repetition, then the median of ${opts.reps}; ${opts.ops} ops per queueing repetition`,
    '',
    ...table(
      ['case', ...ids.map((id) => `${id} ms/op`)],
      results.map((r) => [r.name, ...ids.map((id) => fmt(r.libs[id]?.ms))]),
    ),
    '',
    ...CASES.map((c) => `${c.name}: ${c.what}`),
  ];
  if (raw) {
    lines.push('', 'the raw WebGPU calls an op is made of (a device of their own; µs per call, median):');
    lines.push(...table(['call', 'µs'], raw.map((r) => [r.name, r.us.toFixed(2)])));
  }
  if (ours) lines.push('', `ours, live after the run: ${JSON.stringify(ours.live())}`);
  stdoutWrite(lines.join('\n') + '\n');
}

await main();
process.exit(0);

// Runs in the browser (the page's main thread and its module worker): loads a WebAssembly
// runtime, computes every case on it, and records what happened. Two spies watch the runtime
// from outside: WebAssembly.Memory (so the test can check that each result came out of the
// runtime's linear memory, i.e. that WASM computed it) and Worker (the pool's threads: how many
// started, whether each computed work items, any error they raised).
import { CASES, runCase } from './cases.mjs';

/** Replaces WebAssembly.Memory and Worker with subclasses that record every instance. */
export function installSpies() {
  const spies = { memories: [], workers: [] };
  const BaseMemory = WebAssembly.Memory;
  WebAssembly.Memory = class extends BaseMemory {
    constructor(desc) {
      super(desc);
      spies.memories.push(this);
    }
  };
  const BaseWorker = globalThis.Worker;
  if (BaseWorker) {
    globalThis.Worker = class extends BaseWorker {
      constructor(url, opts) {
        super(url, opts);
        const rec = { setup: undefined, errors: [] };
        spies.workers.push(rec);
        this.record = rec;
        this.addEventListener('error', (e) => rec.errors.push(e.message || 'error event'));
      }

      postMessage(msg, transfer) {
        this.record.setup ??= msg;
        super.postMessage(msg, transfer);
      }
    };
  }
  return spies;
}

/** Whether `out` lies, word for word, somewhere in `memory`. */
function inMemory(memory, out) {
  const mem = new Uint32Array(memory.buffer);
  const pat = new Uint32Array(out.buffer, out.byteOffset, out.length);
  for (let at = mem.indexOf(pat[0]); at >= 0 && at + pat.length <= mem.length; at = mem.indexOf(pat[0], at + 1)) {
    let i = 1;
    while (i < pat.length && mem[at + i] === pat[i]) i++;
    if (i === pat.length) return true;
  }
  return false;
}

/**
 * The first floats of the scratch of the pool worker described by `rec` (what the runtime
 * posted it: its memory and scratch address), or undefined if the setup has no such fields.
 * Every work item starts by packing a block of its operands there, so a worker that has
 * computed an item leaves non-zeros in it.
 */
function scratchOf(rec) {
  const s = rec.setup;
  if (!s || !(s.memory instanceof WebAssembly.Memory) || !Number.isInteger(s.scratch)) return undefined;
  return new Float32Array(s.memory.buffer, s.scratch, 1024);
}

/** Whether the pool worker `rec` has computed a work item since its scratch was last cleared. */
const computed = (rec) => scratchOf(rec)?.some((v) => v !== 0);

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Loads a runtime with `request` (the options of loadWasmRuntime) and computes every case on
 * it, or on the plain TypeScript kernels when `request` is null. Returns the results with what
 * was observed.
 */
export async function probe(T, spies, { label, request }) {
  const rec = { label, request, memories: 0, poolStarted: 0, poolUnknown: 0, poolErrors: [], poolInCase: {}, results: {}, inMemory: {}, ms: {} };
  const m0 = spies.memories.length;
  const w0 = spies.workers.length;
  let t = performance.now();
  const rt = request ? await T.loadWasmRuntime(request) : undefined;
  const loaded = performance.now();
  rec.loadMs = loaded - t;
  const memories = spies.memories.slice(m0);
  const pool = spies.workers.slice(w0);
  rec.threads = rt?.threads ?? null;
  rec.memories = memories.length;
  rec.sharedMemory = memories.length === 1 ? typeof SharedArrayBuffer !== 'undefined' && memories[0].buffer instanceof SharedArrayBuffer : null;
  rec.poolStarted = pool.length;
  rec.memoryBytes = memories.length === 1 ? [memories[0].buffer.byteLength] : [];
  rec.poolUnknown = pool.filter((w) => scratchOf(w) === undefined).length;
  const backend = T.createCpuBackend(rt ? { wasm: rt } : {});
  try {
    if (pool.length > 0 && rec.poolUnknown === 0) {
      // Whether the pool joins jobs run right after loading, before this thread yields (a
      // browser starts a worker only once its creator returns to the event loop) ...
      for (let i = 0; i < 3; i++) runCase(T, backend, CASES[0]);
      rec.poolJoinedAtOnce = pool.filter(computed).length;
      // ... and how long until every pool worker has computed, yielding between jobs.
      while (pool.some((w) => !computed(w)) && performance.now() - loaded < 10_000) {
        await sleep(10);
        runCase(T, backend, CASES[0]);
      }
      rec.poolJoinMs = performance.now() - loaded;
    }
    for (const c of CASES) {
      for (const w of pool) scratchOf(w)?.fill(0);
      t = performance.now();
      const out = runCase(T, backend, c);
      rec.ms[c.name] = performance.now() - t;
      rec.results[c.name] = out;
      if (rt) rec.inMemory[c.name] = memories.length === 1 && inMemory(memories[0], out);
      rec.poolInCase[c.name] = pool.flatMap((w, i) => (computed(w) ? [i] : []));
    }
    if (memories.length === 1) rec.memoryBytes.push(memories[0].buffer.byteLength);
    // a worker's errors arrive as events: let them in before reporting
    await sleep(50);
    rec.poolErrors = pool.flatMap((w) => w.errors);
  } finally {
    rt?.dispose();
  }
  return rec;
}

/** The probe with its float32 results as base64 of their bytes (compact to hand to Node). */
export function encodeProbe(rec) {
  const results = {};
  for (const [name, out] of Object.entries(rec.results)) {
    const bytes = new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
    let bin = '';
    for (let i = 0; i < bytes.length; i += 0x8000) bin += String.fromCharCode.apply(null, bytes.subarray(i, i + 0x8000));
    results[name] = btoa(bin);
  }
  return { ...rec, results };
}

/**
 * The threads of the WebAssembly CPU path: workers that share the module's linear memory and
 * take work items from a counter in it.
 *
 * Protocol (32-bit words at `ctrl` in the shared memory):
 *   [GEN]   bumped by the main thread to wake the workers (Atomics.wait/notify on it)
 *   [CLAIM] items left; a thread claims item `c - 1` by compare-exchange from c to c − 1
 *   [DONE]  items finished; the main thread sleeps on it until it reaches the item count
 *   [JOB]   address of the job descriptor, read after a successful claim
 *   [STOP]  non-zero: workers return
 *   [READY] workers that have instantiated the module (loadWasmRuntime waits for all of them)
 * The main thread takes items too, so a job completes even before any worker has started. Each
 * item is computed by one thread from start to end, so which thread takes it does not change
 * the result.
 *
 * Node: worker_threads (unref'd, so they never keep the process alive). Browsers: Web Workers,
 * only where the caller may block (a worker, in a cross-origin-isolated page, so that
 * SharedArrayBuffer exists); a page's main thread cannot Atomics.wait, so there the runtime
 * runs on one thread.
 */

export const GEN = 0;
export const CLAIM = 1;
export const DONE = 2;
export const JOB = 3;
export const STOP = 4;
export const READY = 5;
/** Bytes of the control block. */
export const CTRL_BYTES = 64;

/** What one worker needs: the memory and module it shares, its stack and its scratch. */
export interface WorkerSetup {
  memory: WebAssembly.Memory;
  module: WebAssembly.Module;
  ctrl: number;
  stackTop: number;
  scratch: number;
}

// The worker's code, as source text so that it needs no separate file (bundlers, eval workers).
// `drain` is also what the main thread runs, see WasmRuntime.
const WORKER_BODY = `
function drain(s, x, scratch) {
  for (;;) {
    const c = Atomics.load(s, ${CLAIM});
    if (c === 0) return;
    if (Atomics.compareExchange(s, ${CLAIM}, c, c - 1) !== c) continue;
    x.work_item(Atomics.load(s, ${JOB}), c - 1, scratch);
    Atomics.add(s, ${DONE}, 1);
    Atomics.notify(s, ${DONE});
  }
}
function main(d) {
  const x = new WebAssembly.Instance(d.module, { env: { memory: d.memory } }).exports;
  x.__stack_pointer.value = d.stackTop;
  const s = new Int32Array(d.memory.buffer, d.ctrl, ${CTRL_BYTES / 4});
  Atomics.add(s, ${READY}, 1);
  let gen = 0;
  for (;;) {
    Atomics.wait(s, ${GEN}, gen);
    gen = Atomics.load(s, ${GEN});
    if (Atomics.load(s, ${STOP}) !== 0) return;
    drain(s, x, d.scratch);
  }
}
`;

/** A started worker: only `terminate` is needed (they stop on STOP anyway). */
export interface PoolWorker {
  terminate(): unknown;
}

/** Whether this thread may block in Atomics.wait, and whether it can start workers that share memory. */
export interface Platform {
  node: boolean;
  canBlock: boolean;
  cores: number;
}

const NODE_WT = 'node:worker_threads';
const NODE_OS = 'node:os';

/** Finds out where we run: Node, a browser worker or a browser page. */
export async function detectPlatform(): Promise<Platform> {
  const g = globalThis as any;
  if (g.process?.versions?.node) {
    const os = await import(/* @vite-ignore */ /* webpackIgnore: true */ NODE_OS);
    const cores = typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length;
    return { node: true, canBlock: true, cores: Math.max(1, cores) };
  }
  const inWorker = typeof g.WorkerGlobalScope !== 'undefined' && g instanceof g.WorkerGlobalScope;
  const shared = typeof SharedArrayBuffer !== 'undefined' && g.crossOriginIsolated === true;
  return { node: false, canBlock: inWorker && shared, cores: Math.max(1, g.navigator?.hardwareConcurrency ?? 1) };
}

/** Starts one worker running the protocol above; `onError` hears of it failing. */
export async function startWorker(platform: Platform, setup: WorkerSetup, onError: (e: unknown) => void): Promise<PoolWorker> {
  if (platform.node) {
    const { Worker } = await import(/* @vite-ignore */ /* webpackIgnore: true */ NODE_WT);
    const w = new Worker(`${WORKER_BODY}\nimport('node:worker_threads').then((wt) => main(wt.workerData));`, { eval: true, workerData: setup });
    w.on('error', onError);
    w.unref();
    return w;
  }
  const g = globalThis as any;
  const url = g.URL.createObjectURL(new g.Blob([`${WORKER_BODY}\nonmessage = (e) => main(e.data);`], { type: 'text/javascript' }));
  const w = new g.Worker(url);
  w.onerror = (e: { message?: string }) => onError(new Error(e.message ?? 'the worker script failed (a content security policy without worker-src blob:?)'));
  w.postMessage(setup);
  return w;
}

/**
 * Resolves once `count` workers have instantiated the module (READY), yielding to the event
 * loop meanwhile: a browser starts a Worker only after its creator yields, so a runtime used
 * synchronously right after loading would otherwise compute alone. Rejects on a worker error or
 * after `timeoutMs`.
 */
export async function waitReady(s: Int32Array, count: number, failed: () => unknown, timeoutMs = 10000): Promise<void> {
  const start = Date.now();
  while (Atomics.load(s, READY) < count) {
    const e = failed();
    if (e) throw e;
    if (Date.now() - start > timeoutMs) throw new Error(`${Atomics.load(s, READY)} of ${count} worker threads started within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
}

/** The main thread's share of a job: the same loop as the workers'. */
export function drain(s: Int32Array, workItem: (job: number, item: number, scratch: number) => void, scratch: number): void {
  for (;;) {
    const c = Atomics.load(s, CLAIM);
    if (c === 0) return;
    if (Atomics.compareExchange(s, CLAIM, c, c - 1) !== c) continue;
    workItem(Atomics.load(s, JOB), c - 1, scratch);
    Atomics.add(s, DONE, 1);
  }
}

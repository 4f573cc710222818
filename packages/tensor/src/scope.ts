/**
 * Memory scopes: every tensor created inside `scope(fn)` is disposed when `fn` finishes, except
 * the tensors `fn` returns (anywhere inside arrays or plain objects) and those passed to `keep`.
 *
 * Scopes work for async functions too. In Node (and other runtimes with `AsyncLocalStorage`) a
 * tensor belongs to the scope of the async call chain that created it, so concurrent scopes never
 * free each other's tensors. Where no async context exists (browsers today), tensors created after
 * an async scope's first `await` are not tracked and stay alive: nothing is ever freed by mistake.
 */
import type { Tensor } from './tensor.js';

class Scope {
  readonly tensors = new Set<Tensor>();
  constructor(readonly parent: Scope | undefined) {}
}

interface AsyncStore<T> {
  getStore(): T | undefined;
  run<R>(store: T, fn: () => R): R;
}

function findAsyncStorage(): AsyncStore<Scope | undefined> | undefined {
  const g = globalThis as { process?: { getBuiltinModule?: (m: string) => unknown } };
  try {
    const mod = g.process?.getBuiltinModule?.('node:async_hooks') as
      | { AsyncLocalStorage: new () => AsyncStore<Scope | undefined> }
      | undefined;
    return mod ? new mod.AsyncLocalStorage() : undefined;
  } catch {
    return undefined;
  }
}

let asyncStore: AsyncStore<Scope | undefined> | undefined | null = null;
const syncStack: Scope[] = [];

function store(): AsyncStore<Scope | undefined> | undefined {
  if (asyncStore === null) asyncStore = findAsyncStorage();
  return asyncStore;
}

function currentScope(): Scope | undefined {
  const s = store();
  return s ? s.getStore() : syncStack[syncStack.length - 1];
}

const owner = new WeakMap<Tensor, Scope>();

/** Called by the engine for every new tensor. */
export function trackTensor(t: Tensor): void {
  const s = currentScope();
  if (s) {
    s.tensors.add(t);
    owner.set(t, s);
  }
}

/** Called when a tensor is disposed, so scopes don't hold on to it. */
export function forgetTensor(t: Tensor): void {
  owner.get(t)?.tensors.delete(t);
}

/** Exempts tensors from the scopes they were created in; returns its argument. */
export function keep<T>(tree: T): T {
  for (const t of collectTensors(tree)) {
    owner.get(t)?.tensors.delete(t);
    owner.delete(t);
  }
  return tree;
}

/** Every tensor in a nested structure of arrays, plain objects and Maps. */
export function collectTensors(tree: unknown, out: Tensor[] = []): Tensor[] {
  if (tree === null || typeof tree !== 'object') return out;
  if (isTensorLike(tree)) {
    out.push(tree as Tensor);
  } else if (Array.isArray(tree)) {
    for (const v of tree) collectTensors(v, out);
  } else if (tree instanceof Map) {
    for (const v of tree.values()) collectTensors(v, out);
  } else if (Object.getPrototypeOf(tree) === Object.prototype) {
    for (const v of Object.values(tree)) collectTensors(v, out);
  }
  return out;
}

function isTensorLike(x: object): boolean {
  return (x as { __isTensor?: boolean }).__isTensor === true;
}

function close(scope: Scope, result: unknown): void {
  const kept = new Set(collectTensors(result));
  for (const t of scope.tensors) {
    if (!kept.has(t)) {
      t.dispose();
    } else if (scope.parent) {
      scope.parent.tensors.add(t);
      owner.set(t, scope.parent);
    } else {
      owner.delete(t);
    }
  }
  scope.tensors.clear();
}

/**
 * Runs `fn` and disposes every tensor it created that it does not return.
 *
 * @example
 * ```ts
 * const y = scope(() => x.mul(2).add(1).relu()); // intermediates freed, y kept
 * const loss = await scope(async () => { const l = model(x); await l.data(); return l; });
 * ```
 */
export function scope<T>(fn: () => T): T {
  const parent = currentScope();
  const s = new Scope(parent);
  const als = store();
  let result: T;
  try {
    if (als) {
      result = als.run(s, fn);
    } else {
      syncStack.push(s);
      try {
        result = fn();
      } finally {
        syncStack.pop();
      }
    }
  } catch (e) {
    close(s, undefined);
    throw e;
  }
  if (result instanceof Promise) {
    return result.then(
      (v) => {
        close(s, v);
        return v;
      },
      (e) => {
        close(s, undefined);
        throw e;
      },
    ) as T;
  }
  close(s, result);
  return result;
}

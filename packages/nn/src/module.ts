/**
 * `Module`: the base class of layers and models, as in PyTorch. A module finds its parameters,
 * buffers and sub-modules by looking at its own fields (arrays of them too), in the order they
 * were assigned, so `this.fc1 = new Linear(784, 256)` is all the registration there is. Names in
 * the state dict are the dotted field paths: `fc1.weight`, `blocks.0.attn.qProj.bias`.
 */
import { alias, fromArray, getBackend } from '@ml/tensor';
import type { Backend, Tensor } from '@ml/tensor';
import { Buffer, ModuleTensor, Parameter } from './parameter.js';

/** How state-dict keys are spelt: our field names, or PyTorch's snake_case (`running_mean`). */
export type Naming = 'ml' | 'pytorch';

/** Options of {@link Module.stateDict} and {@link Module.loadStateDict}. */
export interface StateDictOptions {
  /** `'pytorch'` turns each camelCase segment into snake_case (default `'ml'`: field names). */
  naming?: Naming;
}

/** camelCase → snake_case for one key: `blocks.0.runningMean` → `blocks.0.running_mean`. */
export function toPytorchName(name: string): string {
  return name.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toLowerCase();
}

type Entry = readonly [name: string, value: unknown];

/** Own fields of a module that hold modules or module tensors, arrays expanded to `name.i`. */
function fields(m: Module): Entry[] {
  const out: Entry[] = [];
  for (const [name, value] of Object.entries(m)) {
    if (value instanceof Module || value instanceof ModuleTensor) out.push([name, value]);
    else if (Array.isArray(value)) {
      value.forEach((v, i) => {
        if (v instanceof Module || v instanceof ModuleTensor) out.push([`${name}.${i}`, v]);
      });
    }
  }
  return out;
}

export abstract class Module {
  /** Training mode (Dropout drops, BatchNorm uses batch statistics); see `train()`/`eval()`. */
  training = true;

  /** The computation. Subclasses define it with their own signature. */
  abstract forward(...args: any[]): any;

  /** Direct sub-modules with their field names. */
  namedChildren(): [string, Module][] {
    return fields(this).filter((e): e is [string, Module] => e[1] instanceof Module);
  }

  children(): Module[] {
    return this.namedChildren().map(([, m]) => m);
  }

  /** This module and every module below it (each once), depth first, with dotted names ('' for this one). */
  namedModules(prefix = ''): [string, Module][] {
    const seen = new Set<Module>();
    const out: [string, Module][] = [];
    const walk = (m: Module, name: string) => {
      if (seen.has(m)) return;
      seen.add(m);
      out.push([name, m]);
      for (const [child, c] of m.namedChildren()) walk(c, name ? `${name}.${child}` : child);
    };
    walk(this, prefix);
    return out;
  }

  modules(): Module[] {
    return this.namedModules().map(([, m]) => m);
  }

  /** Every tensor field of every module below, with its dotted name (shared tensors once each unless `all`). */
  #namedTensors<T extends ModuleTensor>(kind: abstract new (...a: any[]) => T, all: boolean): [string, T][] {
    const seen = new Set<ModuleTensor>();
    const out: [string, T][] = [];
    const walk = (m: Module, prefix: string, path: Set<Module>) => {
      if (path.has(m)) return;
      path.add(m);
      for (const [name, v] of fields(m)) {
        if (v instanceof kind && (all || !seen.has(v))) {
          seen.add(v);
          out.push([prefix ? `${prefix}.${name}` : name, v]);
        }
      }
      for (const [name, c] of m.namedChildren()) walk(c, prefix ? `${prefix}.${name}` : name, path);
      path.delete(m);
    };
    walk(this, '', new Set());
    return out;
  }

  /** Parameters with their dotted names; a parameter shared by two layers (weight tying) is listed once. */
  namedParameters(): [string, Parameter][] {
    return this.#namedTensors(Parameter, false);
  }

  /** All parameters (each once): what an optimizer takes. */
  parameters(): Parameter[] {
    return this.namedParameters().map(([, p]) => p);
  }

  namedBuffers(): [string, Buffer][] {
    return this.#namedTensors(Buffer, false);
  }

  buffers(): Buffer[] {
    return this.namedBuffers().map(([, b]) => b);
  }

  /** The number of trainable elements (shared parameters counted once). */
  numParameters(): number {
    return this.parameters().reduce((n, p) => (p.requiresGrad ? n + p.size : n), 0);
  }

  /** Sets training mode here and below; returns this. */
  train(mode = true): this {
    for (const m of this.modules()) m.training = mode;
    return this;
  }

  /** Evaluation mode: `train(false)`. */
  eval(): this {
    return this.train(false);
  }

  /** Calls `fn` on every module below and this one (children first), as PyTorch's `apply`. */
  apply(fn: (m: Module) => void): this {
    for (const m of this.modules().reverse()) fn(m);
    return this;
  }

  /** Drops every parameter's gradient (`p.grad = null`, disposing it). */
  zeroGrad(): void {
    for (const p of this.parameters()) {
      p.grad?.dispose();
      p.grad = null;
    }
  }

  /**
   * The parameters and persistent buffers by dotted name, as snapshots: each value is a new tensor
   * sharing the buffer (no copy), unaffected by later optimizer steps. Dispose them when done (or
   * call inside `scope`). Shared parameters appear under every name, as in PyTorch.
   */
  stateDict(opts: StateDictOptions = {}): Record<string, Tensor> {
    const out: Record<string, Tensor> = {};
    for (const [name, t] of this.#stateEntries()) out[opts.naming === 'pytorch' ? toPytorchName(name) : name] = alias(t, { track: true });
    return out;
  }

  #stateEntries(): [string, ModuleTensor][] {
    const params = this.#namedTensors(Parameter, true);
    const buffers = this.#namedTensors(Buffer, true).filter(([, b]) => b.persistent);
    return [...params, ...buffers];
  }

  /**
   * Loads `state` (from `stateDict` or a checkpoint). Everything is checked before anything
   * changes: a missing key, an unexpected key (unless `strict: false`), a wrong shape or dtype
   * throws one error that lists them all, and the module is left untouched. Values on another
   * backend must be moved first (see `to`). The module shares the given tensors' buffers; the
   * caller may dispose them.
   */
  loadStateDict(state: Record<string, Tensor>, opts: StateDictOptions & { strict?: boolean } = {}): this {
    const strict = opts.strict ?? true;
    const entries = this.#stateEntries().map(([n, t]) => [opts.naming === 'pytorch' ? toPytorchName(n) : n, t] as const);
    const expected = new Map(entries);
    const problems: string[] = [];
    const missing = entries.filter(([n]) => !(n in state)).map(([n]) => n);
    const unexpected = Object.keys(state).filter((n) => !expected.has(n));
    if (missing.length) problems.push(`missing key(s): ${missing.join(', ')}`);
    if (strict && unexpected.length) problems.push(`unexpected key(s): ${unexpected.join(', ')}`);
    for (const [name, target] of entries) {
      const v = state[name];
      if (v === undefined) continue;
      if (!(v as { __isTensor?: unknown } | null)?.__isTensor) problems.push(`${name}: expected a Tensor, got ${typeof v}`);
      else if (v.isDisposed) problems.push(`${name}: the tensor was disposed`);
      else if (v.shape.length !== target.shape.length || v.shape.some((d, i) => d !== target.shape[i])) {
        problems.push(`size mismatch for ${name}: the state has shape (${v.shape.join(', ')}), the module has (${target.shape.join(', ')})`);
      } else if (v.dtype !== target.dtype) problems.push(`dtype mismatch for ${name}: the state has ${v.dtype}, the module has ${target.dtype}`);
      else if (v.backend !== target.backend) problems.push(`${name}: the state is on backend ${v.backend.name}, the module on ${target.backend.name}; move it with to() first`);
    }
    if (problems.length) throw new Error(`loadStateDict: cannot load into ${this.constructor.name}: ${problems.join('; ')}`);
    for (const [name, target] of entries) target.assign(state[name]);
    return this;
  }

  /** Moves every parameter and buffer to `backend` (copying through the host). */
  async to(backend: Backend = getBackend()): Promise<this> {
    for (const [, t] of [...this.#namedTensors(Parameter, false), ...this.#namedTensors(Buffer, false)]) {
      if (t.backend === backend) continue;
      const moved = fromArray('to', await t.data(), t.shape, t.dtype, backend);
      t.assign(moved);
      moved.dispose();
    }
    return this;
  }

  /** Frees every parameter and buffer below (the module cannot be used afterwards). */
  dispose(): void {
    for (const [, t] of [...this.#namedTensors(Parameter, false), ...this.#namedTensors(Buffer, false)]) {
      t.grad?.dispose();
      t.grad = null;
      t.dispose();
    }
  }

  [Symbol.dispose](): void {
    this.dispose();
  }

  /** What goes between the parentheses in `toString()`: `in_features=784, out_features=256`. */
  extraRepr(): string {
    return '';
  }

  /** A PyTorch-style printout of the module tree. */
  toString(): string {
    const children = this.namedChildren();
    const extra = this.extraRepr();
    if (children.length === 0) return `${this.constructor.name}(${extra})`;
    const lines = children.map(([name, m]) => `  (${name}): ${m.toString().replace(/\n/g, '\n  ')}`);
    if (extra) lines.unshift(`  ${extra}`);
    return `${this.constructor.name}(\n${lines.join('\n')}\n)`;
  }
}

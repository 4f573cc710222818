/** Containers: `Sequential` chains modules; `ModuleList` holds them for a forward you write. */
import type { Tensor } from '@ml/tensor';
import { Module } from './module.js';

/**
 * Modules applied in order: `forward(x) = mₙ(…m₂(m₁(x)))`. Children are named `0`, `1`, …
 *
 * @example
 * ```ts
 * const mlp = new Sequential(new Linear(784, 256), new ReLU(), new Linear(256, 10));
 * const logits = mlp.forward(x); // (B, 784) → (B, 10)
 * ```
 */
export class Sequential extends Module {
  readonly layers: Module[];

  constructor(...layers: Module[]) {
    super();
    for (const [i, m] of layers.entries()) {
      if (!(m instanceof Module)) throw new Error(`Sequential: argument ${i} is not a Module`);
    }
    this.layers = layers;
  }

  override namedChildren(): [string, Module][] {
    return this.layers.map((m, i) => [String(i), m]);
  }

  get length(): number {
    return this.layers.length;
  }

  at(i: number): Module {
    const m = this.layers.at(i);
    if (!m) throw new Error(`Sequential.at: index ${i} out of range for ${this.layers.length} layers`);
    return m;
  }

  forward(x: Tensor): Tensor {
    for (const m of this.layers) x = m.forward(x);
    return x;
  }
}

/** A list of modules whose parameters are registered (children `0`, `1`, …); no forward of its own. */
export class ModuleList extends Module {
  readonly items: Module[];

  constructor(modules: Iterable<Module> = []) {
    super();
    this.items = [...modules];
    for (const [i, m] of this.items.entries()) {
      if (!(m instanceof Module)) throw new Error(`ModuleList: item ${i} is not a Module`);
    }
  }

  override namedChildren(): [string, Module][] {
    return this.items.map((m, i) => [String(i), m]);
  }

  get length(): number {
    return this.items.length;
  }

  at(i: number): Module {
    const m = this.items.at(i);
    if (!m) throw new Error(`ModuleList.at: index ${i} out of range for ${this.items.length} modules`);
    return m;
  }

  push(m: Module): this {
    if (!(m instanceof Module)) throw new Error('ModuleList.push: not a Module');
    this.items.push(m);
    return this;
  }

  [Symbol.iterator](): Iterator<Module> {
    return this.items[Symbol.iterator]();
  }

  forward(): never {
    throw new Error('ModuleList has no forward: iterate over it in your own module');
  }
}

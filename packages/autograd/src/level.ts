/**
 * Reverse mode. A `Level` records every op whose inputs it tracks (through @ml/tensor's op hook)
 * and runs the gradient rules backwards. Each transform (`grad`, `vjp`...) opens its own level, and
 * the rules are themselves tensor ops, so an outer level records what an inner level's backward
 * pass computes: that is how `grad(grad(f))` works.
 */
import { add, alias, isFloat, scope, zeros } from '@ml/tensor';
import type { OpRecord, Tensor } from '@ml/tensor';
import { GRAD_RULES } from './rules/index.js';
import type { GradRule, RuleContext, TensorMeta } from './rules/index.js';
import { gradEnabled } from './state.js';

let nextSeq = 0;

/** Where a backward pass currently is (anomaly mode reports it). */
export const backwardState: { op: string | null } = { op: null };

/** One recorded op. */
export class Node {
  readonly seq = nextSeq++;
  released = false;
  /** Live differentiable outputs plus recorded nodes that consume them (global level only). */
  liveOutputs = 0;
  children = 0;
  constructor(
    readonly op: string,
    readonly params: Readonly<Record<string, any>>,
    readonly rule: GradRule | undefined,
    readonly inputIds: readonly number[],
    readonly inputTracked: readonly boolean[],
    readonly inputMetas: readonly TensorMeta[],
    readonly outputIds: readonly number[],
    readonly outputMetas: readonly TensorMeta[],
    readonly savedInputs: readonly Tensor[],
    readonly savedOutputs: readonly Tensor[],
    readonly parents: readonly Node[],
    readonly onRelease?: () => void,
  ) {}

  release(): void {
    if (this.released) return;
    this.released = true;
    for (const t of [...this.savedInputs, ...this.savedOutputs]) t.dispose();
    this.onRelease?.();
  }
}

const meta = (t: Tensor): TensorMeta => ({ shape: t.shape, dtype: t.dtype });

export interface BackwardOptions {
  /** Keep the saved tensors so backward can run again (PyTorch's retain_graph). */
  retainGraph?: boolean;
  /** The public name to use in errors. */
  op?: string;
}

export class Level {
  /** The node that produced each tracked tensor, by tensor id. */
  readonly producer = new Map<number, Node>();
  readonly nodes = new Set<Node>();
  /** Ids of the tensors differentiated with respect to. */
  readonly leaves = new Set<number>();
  #paused = 0;

  constructor(readonly name: string) {}

  /** Whether `t` is differentiated by this level (a leaf or computed from one). */
  isTracked(t: Tensor): boolean {
    return this.producer.has(t.id) || this.isLeaf(t);
  }

  protected isLeaf(t: Tensor): boolean {
    return this.leaves.has(t.id);
  }

  /** Runs `fn` while this level records nothing (used while it saves its own tensors). */
  paused<T>(fn: () => T): T {
    this.#paused++;
    try {
      return fn();
    } finally {
      this.#paused--;
    }
  }

  /** The op hook: records ops that touch tracked tensors. */
  readonly hook = (r: OpRecord): void => {
    if (this.#paused || !gradEnabled()) return;
    this.record(r.op, r.inputs, r.outputs, r.params);
  };

  /** Records one op (also used directly for custom rules and checkpoints). */
  record(
    op: string,
    inputs: readonly Tensor[],
    outputs: readonly Tensor[],
    params: Readonly<Record<string, any>>,
    rule: GradRule | undefined = GRAD_RULES[op],
    onRelease?: () => void,
  ): Node | undefined {
    const tracked = inputs.map((t) => this.isTracked(t));
    if (!tracked.some(Boolean) || !outputs.some((o) => isFloat(o.dtype))) {
      onRelease?.();
      return undefined;
    }
    const save = rule?.save ?? { inputs: true, outputs: true };
    // saving aliases the values (no copy); outer levels see the alias as an identity op
    const keepAll = (ts: readonly Tensor[]) => this.paused(() => ts.map((t) => alias(t, { notify: true })));
    const parents = [...new Set(inputs.flatMap((t) => this.producer.get(t.id) ?? []))];
    const node = new Node(
      op,
      params,
      rule,
      inputs.map((t) => t.id),
      tracked,
      inputs.map(meta),
      outputs.map((t) => t.id),
      outputs.map(meta),
      rule && save.inputs !== false ? keepAll(inputs) : [],
      rule && save.outputs !== false ? keepAll(outputs) : [],
      parents,
      onRelease,
    );
    for (const o of outputs) {
      if (isFloat(o.dtype)) {
        this.producer.set(o.id, node);
        node.liveOutputs++;
      }
    }
    for (const p of parents) p.children++;
    this.nodes.add(node);
    return node;
  }

  /**
   * Runs the rules backwards from `roots` with `cotangents` and returns the accumulated cotangent
   * of every leaf reached, by tensor id (the caller owns them).
   */
  backward(roots: readonly Tensor[], cotangents: readonly Tensor[], opts: BackwardOptions = {}): Map<number, Tensor> {
    const name = opts.op ?? 'backward';
    const grads = new Map<number, Tensor>();
    const own = (t: Tensor) => alias(t, { notify: true, track: true });
    const accumulate = (id: number, g: Tensor) => {
      const prev = grads.get(id);
      if (!prev) {
        grads.set(id, g);
        return;
      }
      grads.set(id, add(prev, g));
      prev.dispose();
      g.dispose();
    };
    roots.forEach((r, i) => accumulate(r.id, own(cotangents[i])));
    // only the nodes the roots depend on, latest first: other live graphs cost nothing here
    const reachable = new Set<Node>();
    const stack = roots.map((r) => this.producer.get(r.id)).filter((n): n is Node => n !== undefined);
    while (stack.length) {
      const node = stack.pop()!;
      if (reachable.has(node) || !this.nodes.has(node)) continue;
      reachable.add(node);
      stack.push(...node.parents);
    }
    const order = [...reachable].sort((a, b) => b.seq - a.seq);
    const previousOp = backwardState.op;
    try {
      for (const node of order) {
        const gs = node.outputIds.map((id) => grads.get(id));
        if (gs.every((g) => g === undefined)) continue;
        if (!node.rule) {
          throw new Error(`${name}: no gradient rule for primitive "${node.op}"`);
        }
        if (node.released) {
          throw new Error(
            `${name}: the graph through "${node.op}" was already used and its saved tensors freed; ` +
              'pass { retainGraph: true } to differentiate through it again',
          );
        }
        for (const id of node.outputIds) grads.delete(id);
        backwardState.op = node.op;
        const backend = gs.find((g) => g !== undefined)!.backend; // unused outputs get zeros there
        const filled = gs.map((g, i) => g ?? zeros(node.outputMetas[i].shape, { dtype: node.outputMetas[i].dtype, backend }));
        const ctx: RuleContext = {
          inputs: node.savedInputs,
          outputs: node.savedOutputs,
          inputMetas: node.inputMetas,
          outputMetas: node.outputMetas,
          params: node.params,
          needsGrad: node.inputTracked,
        };
        const rule = node.rule;
        let results: (Tensor | null)[] = [];
        try {
          results = scope(() => rule.vjp(ctx, filled));
          results.forEach((r, i) => {
            if (!r || !node.inputTracked[i]) return;
            const want = node.inputMetas[i].shape;
            if (r.shape.length !== want.length || r.shape.some((d, j) => d !== want[j])) {
              throw new Error(`${name}: the rule of "${node.op}" gave a cotangent of shape (${r.shape.join(', ')}) for an input of shape (${want.join(', ')})`);
            }
            accumulate(node.inputIds[i], own(r));
          });
        } finally {
          // also when the rule throws (a refused op, a bad shape): these are no longer in `grads`
          for (const r of results) r?.dispose();
          for (const g of filled) g.dispose();
        }
        if (!opts.retainGraph) node.release();
      }
    } catch (e) {
      for (const g of grads.values()) g.dispose();
      throw e;
    } finally {
      backwardState.op = previousOp;
    }
    // cotangents left for tensors that are not leaves belong to nothing: free them
    for (const [id, g] of grads) {
      if (!this.leaves.has(id) && !this.isLeafId(id)) {
        g.dispose();
        grads.delete(id);
      }
    }
    return grads;
  }

  /** Leaf test by id, for levels whose leaves are not listed in `leaves`. */
  protected isLeafId(_id: number): boolean {
    return false;
  }

  /** Frees everything the level saved. */
  dispose(): void {
    for (const n of this.nodes) n.release();
    this.nodes.clear();
    this.producer.clear();
  }
}

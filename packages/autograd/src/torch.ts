/**
 * PyTorch-style training: mark tensors with `requiresGrad(t)`, compute a loss, call
 * `backward(loss)`, read `t.grad`. One global level records every op that touches such tensors;
 * a recorded node lives while its outputs (or nodes computed from them) are alive, so disposing a
 * step's tensors (or leaving a `scope`) frees its graph.
 */
import { add, addDisposeHook, addHook, isFloat, keep, ones } from '@ml/tensor';
import type { Tensor } from '@ml/tensor';
import { Level, Node } from './level.js';
import type { BackwardOptions } from './level.js';
import { activeLevels } from './state.js';

class GlobalLevel extends Level {
  /** Leaf tensors (requiresGrad) seen as inputs, by id, so backward can fill `.grad`. */
  readonly leafTensors = new Map<number, Tensor>();

  constructor() {
    super('backward');
  }

  protected override isLeaf(t: Tensor): boolean {
    if (!t.requiresGrad) return false;
    this.leafTensors.set(t.id, t);
    return true;
  }

  protected override isLeafId(id: number): boolean {
    return this.leafTensors.has(id);
  }

  /** A tensor was disposed: its node may no longer be reachable. */
  readonly onDispose = (t: Tensor): void => {
    this.leafTensors.delete(t.id);
    const node = this.producer.get(t.id);
    if (!node) return;
    this.producer.delete(t.id);
    node.liveOutputs--;
    this.collect(node);
  };

  /** Frees a node nothing can reach any more, and then its parents. */
  collect(node: Node): void {
    if (node.liveOutputs > 0 || node.children > 0 || !this.nodes.has(node)) return;
    node.release();
    this.nodes.delete(node);
    for (const p of node.parents) {
      p.children--;
      this.collect(p);
    }
  }
}

let globalLevel: GlobalLevel | undefined;

function level(): GlobalLevel {
  if (!globalLevel) {
    globalLevel = new GlobalLevel();
    addHook(globalLevel.hook);
    addDisposeHook(globalLevel.onDispose);
    activeLevels.unshift(globalLevel); // the outermost level
  }
  return globalLevel;
}

/**
 * Marks `t` as a tensor whose gradient `backward()` should compute (PyTorch's
 * `requires_grad_()`), and starts recording ops on it. Only float tensors can require grad.
 * @returns t
 */
export function requiresGrad<T extends Tensor>(t: T, flag = true): T {
  if (flag && !isFloat(t.dtype)) {
    throw new Error(`requiresGrad: only float tensors can require gradients, got ${t.dtype} (shape (${t.shape.join(', ')}))`);
  }
  level();
  t.requiresGrad = flag;
  return t;
}

/**
 * Computes the gradient of `output` with respect to every tensor marked with `requiresGrad` that it
 * depends on, and adds it to that tensor's `.grad` (gradients accumulate across calls, like
 * PyTorch; use `zeroGrad`). `output` must be a scalar unless `gradient` (∂L/∂output) is given.
 * The graph is freed afterwards unless `retainGraph`.
 */
export function backward(output: Tensor, gradient?: Tensor, opts: Omit<BackwardOptions, 'op'> = {}): void {
  const op = 'backward';
  if (output.isDisposed) throw new Error(`${op}: the output tensor was disposed`);
  const g = level();
  if (!g.isTracked(output)) {
    throw new Error(
      `${op}: the output (shape (${output.shape.join(', ')})) does not depend on any tensor that requires grad (mark parameters with requiresGrad(t))`,
    );
  }
  let seed = gradient;
  if (!seed) {
    if (output.size !== 1) {
      throw new Error(`${op}: grad can be implicitly created only for scalar outputs, got shape (${output.shape.join(', ')}); pass a gradient`);
    }
    seed = ones(output.shape, { dtype: output.dtype, backend: output.backend });
  } else if (seed.shape.length !== output.shape.length || seed.shape.some((d, i) => d !== output.shape[i])) {
    throw new Error(`${op}: gradient shape (${seed.shape.join(', ')}) differs from output shape (${output.shape.join(', ')})`);
  }
  try {
    const grads = g.backward([output], [seed], { ...opts, op });
    for (const [id, grad] of grads) {
      const leaf = g.leafTensors.get(id);
      if (!leaf) {
        grad.dispose();
        continue;
      }
      const prev = leaf.grad && !leaf.grad.isDisposed ? leaf.grad : null;
      leaf.grad = keep(prev ? add(prev, grad) : grad);
      if (prev) {
        prev.dispose();
        grad.dispose();
      }
    }
  } finally {
    if (seed !== gradient) seed.dispose();
  }
}

/** Frees and clears `.grad` of each tensor (PyTorch's `zero_grad(set_to_none=True)`). */
export function zeroGrad(tensors: Iterable<Tensor>): void {
  for (const t of tensors) {
    t.grad?.dispose();
    t.grad = null;
  }
}

/**
 * Pytrees: nested arrays and plain objects whose leaves are tensors, so transforms can take and
 * return structures (`grad(loss)(params)` with `params = { w, b }`).
 */
import { Tensor } from '@ml/tensor';

export type Tree<T = Tensor> = T | readonly Tree<T>[] | { readonly [key: string]: Tree<T> };

/** The tensor leaves of a tree, in a fixed order (arrays by index, objects by insertion order). */
export function leaves(tree: unknown): Tensor[] {
  const out: Tensor[] = [];
  const walk = (x: unknown) => {
    if (x instanceof Tensor) out.push(x);
    else if (Array.isArray(x)) x.forEach(walk);
    else if (x !== null && typeof x === 'object' && Object.getPrototypeOf(x) === Object.prototype) {
      Object.values(x).forEach(walk);
    }
  };
  walk(tree);
  return out;
}

/** A tree of the same structure with each tensor leaf replaced by `f(leaf)`; other leaves kept. */
export function mapTree<T>(tree: unknown, f: (t: Tensor) => T): any {
  if (tree instanceof Tensor) return f(tree);
  if (Array.isArray(tree)) return tree.map((x) => mapTree(x, f));
  if (tree !== null && typeof tree === 'object' && Object.getPrototypeOf(tree) === Object.prototype) {
    return Object.fromEntries(Object.entries(tree).map(([k, v]) => [k, mapTree(v, f)]));
  }
  return tree;
}

/** Rebuilds `tree` with its tensor leaves replaced, in order, by `values`. */
export function replaceLeaves(tree: unknown, values: readonly unknown[]): any {
  let i = 0;
  return mapTree(tree, () => values[i++]);
}

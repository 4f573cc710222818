/**
 * Forward mode. A `ForwardLevel` carries a tangent next to every tensor computed from its inputs:
 * after each op it computes the output tangent J·t. Elementwise ops reuse their reverse rule (their
 * Jacobian is diagonal), linear ops are applied to the tangents, and every other primitive gets
 * its tangent from the reverse rule by transposition: the rule u ↦ Jᵀu is linear in u, so the
 * gradient of ⟨Jᵀu, t⟩ with respect to u is J·t.
 */
import { add, addHook, alias, apply, diagonal, expand, isFloat, keep, permute, removeHook, reshape, scope, sliceView, zeros } from '@ml/tensor';
import type { OpRecord, Tensor } from '@ml/tensor';
import { Level } from './level.js';
import { GRAD_RULES } from './rules/index.js';
import type { GradRule, RuleContext } from './rules/index.js';
import { gradEnabled } from './state.js';

const VIEW_TANGENTS: Record<string, (t: Tensor, r: OpRecord) => Tensor> = {
  reshape: (t, r) => reshape(t, r.outputs[0].shape),
  permute: (t, r) => permute(t, r.params.axes),
  expand: (t, r) => expand(t, [...r.outputs[0].shape]),
  slice: (t, r) => sliceView(t, r.params.starts, r.params.sizes, r.params.steps),
  diagonal: (t, r) => diagonal(t, r.params.offset, r.params.axis1, r.params.axis2),
};

function zerosFor(t: Tensor): Tensor {
  return zeros(t.shape, { dtype: t.dtype, backend: t.backend });
}

/** J·t by differentiating the (linear) reverse rule with respect to its cotangent. */
function tangentByTransposition(rule: GradRule, r: OpRecord, tangents: (Tensor | undefined)[]): Tensor[] {
  const inner = new Level('jvp');
  const us = r.outputs.map((o) => {
    const u = zerosFor(o);
    inner.leaves.add(u.id);
    return u;
  });
  const ctx: RuleContext = {
    inputs: r.inputs,
    outputs: r.outputs,
    inputMetas: r.inputs,
    outputMetas: r.outputs,
    params: r.params,
    needsGrad: tangents.map((t) => t !== undefined),
  };
  addHook(inner.hook);
  let gs: (Tensor | null)[];
  try {
    gs = rule.vjp(ctx, us);
  } finally {
    removeHook(inner.hook);
  }
  const roots: Tensor[] = [];
  const cots: Tensor[] = [];
  gs.forEach((g, i) => {
    if (g && tangents[i]) {
      roots.push(g);
      cots.push(tangents[i]!);
    }
  });
  const grads = inner.backward(roots, cots, { op: 'jvp' });
  inner.dispose();
  const out = us.map((u) => grads.get(u.id) ?? zerosFor(u));
  for (const g of gs) g?.dispose();
  for (const u of us) u.dispose();
  return out;
}

export class ForwardLevel {
  readonly tangents = new Map<number, Tensor>();
  #paused = 0;

  tangentOf(t: Tensor): Tensor | undefined {
    return this.tangents.get(t.id);
  }

  set(t: Tensor, tangent: Tensor): void {
    this.tangents.get(t.id)?.dispose();
    this.tangents.set(t.id, tangent);
  }

  readonly hook = (r: OpRecord): void => {
    if (this.#paused || !gradEnabled()) return;
    const tin = r.inputs.map((t) => this.tangents.get(t.id));
    if (tin.every((t) => t === undefined)) return;
    if (!r.outputs.some((o) => isFloat(o.dtype))) return;
    this.#paused++;
    try {
      // the rule's temporaries are freed here; the tangents belong to the level, not to the scope
      // the op ran in (a scope may close before the jvp ends)
      const tout = keep(scope(() => this.compute(r, tin)));
      r.outputs.forEach((o, i) => {
        if (isFloat(o.dtype) && tout[i]) this.set(o, tout[i]!);
        else tout[i]?.dispose();
      });
    } finally {
      this.#paused--;
    }
  };

  /** Runs `fn` without computing tangents. */
  paused<T>(fn: () => T): T {
    this.#paused++;
    try {
      return fn();
    } finally {
      this.#paused--;
    }
  }

  private compute(r: OpRecord, tin: (Tensor | undefined)[]): (Tensor | null)[] {
    const view = VIEW_TANGENTS[r.op];
    if (view) return [view(tin[0]!, r)];
    const rule = GRAD_RULES[r.op];
    if (!rule) throw new Error(`jvp: no gradient rule for primitive "${r.op}"`);
    if (rule.linear) {
      const args = r.inputs.map((x, i) => tin[i] ?? zerosFor(x));
      // a constant fill (pad's value, im2col's padValue) has tangent 0
      const params: Record<string, unknown> = { ...r.params };
      if (r.op === 'pad') params.value = 0;
      if (r.op === 'im2col') params.padValue = 0;
      try {
        return apply(r.op, args, params);
      } finally {
        args.forEach((a, i) => tin[i] === undefined && a.dispose());
      }
    }
    if (rule.elementwise) {
      let total: Tensor | null = null;
      r.inputs.forEach((_, i) => {
        const t = tin[i];
        if (!t) return;
        const needsGrad = r.inputs.map((_, j) => j === i);
        const ctx: RuleContext = { inputs: r.inputs, outputs: r.outputs, inputMetas: r.inputs, outputMetas: r.outputs, params: r.params, needsGrad };
        const parts = rule.vjp(ctx, [t]);
        const part = parts[i];
        parts.forEach((p, j) => j !== i && p !== t && p?.dispose());
        if (!part) return;
        const owned = part === t ? alias(t) : part;
        if (total) {
          const s = add(total, owned);
          total.dispose();
          owned.dispose();
          total = s;
        } else {
          total = owned;
        }
      });
      return [total ?? zerosFor(r.outputs[0])];
    }
    return tangentByTransposition(rule, r, tin);
  }

  dispose(keep: ReadonlySet<Tensor> = new Set()): void {
    for (const t of this.tangents.values()) if (!keep.has(t)) t.dispose();
    this.tangents.clear();
  }
}

/**
 * A first note: build tensors, compute with them, and show the results as text, a table and a
 * plot. Edit anything and press Run again.
 */
import * as Plot from '@observablehq/plot';
import { linspace, tensor } from '@ml/tensor';
import type { NoteContext } from '../src/runtime/context.js';

export default async function run(ctx: NoteContext) {
  // A (2, 3) matrix plus a (3,) vector: the vector is broadcast over the rows.
  const a = tensor([[1, 2, 3], [4, 5, 6]]);
  const b = tensor([10, 20, 30]);
  const c = a.add(b);
  ctx.print(String(c));
  ctx.print('a + b =', await c.array());
  const rowSums = await c.sum(1).array();
  ctx.print('row sums =', rowSums);

  // Three activation functions, elementwise, at a few points...
  const activations = {
    sigmoid: (t: typeof a) => t.sigmoid(),
    tanh: (t: typeof a) => t.tanh(),
    gelu: (t: typeof a) => t.gelu(),
  };
  const points = tensor([-2, -1, 0, 1, 2]);
  const columns: Record<string, number[]> = { x: Array.from(await points.data()) };
  for (const [name, f] of Object.entries(activations)) columns[name] = Array.from(await f(points).data());
  const rows = columns.x.map((_, i) => Object.fromEntries(Object.entries(columns).map(([k, v]) => [k, v[i]])));
  ctx.table(rows, { caption: 'Activation functions at a few points' });

  // ...and on a grid of 121 points in [-3, 3], plotted.
  const x = linspace(-3, 3, 121);
  const xs = await x.data();
  const curves: { x: number; y: number; f: string }[] = [];
  for (const [name, f] of Object.entries(activations)) {
    const ys = await f(x).data();
    ys.forEach((y, i) => curves.push({ x: xs[i], y, f: name }));
  }
  ctx.plot({
    grid: true,
    y: { domain: [-1.2, 3] },
    color: { legend: true },
    marks: [Plot.ruleY([0]), Plot.ruleX([0]), Plot.line(curves, { x: 'x', y: 'y', stroke: 'f' })],
  });

  return { sum: await c.array(), rowSums, rows, points: curves.length };
}

import { grad, vjp } from '@ml/autograd';
import { tensor } from '@ml/tensor';
import type { Tensor } from '@ml/tensor';
import { describe, expect, it } from 'vitest';
import run, { relus } from '../notes/relu-deconvnet-guided-backprop.js';
import { runNote, type Recording } from './record.js';

interface Result {
  example: Record<string, number[][]>;
  maps: Record<'stroke' | 'ring', Record<'image' | 'backprop' | 'deconvnet' | 'guided', number[][]>>;
  plainGrad: Record<'stroke' | 'ring', number[][]>;
  backpropIsGrad: boolean;
  rows: { rule: string; 'correlation with the stroke': number; 'correlation with the ring': number; 'same map for both images': string }[];
}

// The example of the course notes (Springenberg et al., "Striving for Simplicity", figure 1).
const X = [[1, -1, 5], [2, -5, -7], [-3, 2, 4]];
const G = [[-2, 3, -1], [6, -3, 1], [2, -1, 3]];
// The masking rules, written out on plain numbers.
const mask = (keep: (x: number, g: number) => boolean) => X.map((row, i) => row.map((x, j) => (keep(x, G[i][j]) ? G[i][j] : 0)));

describe('note: relu-deconvnet-guided-backprop', async () => {
  const rec: Recording = await runNote(run);
  const r = rec.result as Result;

  it('reproduces the matrices of the 3×3 example', () => {
    expect(r.example['relu(x)']).toEqual([[1, 0, 5], [2, 0, 0], [0, 2, 4]]);
    expect(r.example.backprop).toEqual([[-2, 0, -1], [6, 0, 0], [0, -1, 3]]);
    expect(r.example.deconvnet).toEqual([[0, 3, 0], [6, 0, 1], [2, 0, 3]]);
    expect(r.example.guided).toEqual([[0, 0, 0], [6, 0, 0], [0, 0, 3]]);
  });

  it('follows the masking rules: x > 0, g > 0, and both', () => {
    expect(r.example.backprop).toEqual(mask((x) => x > 0));
    expect(r.example.deconvnet).toEqual(mask((_x, g) => g > 0));
    expect(r.example.guided).toEqual(mask((x, g) => x > 0 && g > 0));
  });

  it('keeps the forward pass of a ReLU in all three variants', async () => {
    const x = tensor([-1.5, 0, 2, -0.25, 3]);
    for (const relu of Object.values(relus)) expect(await relu(x).array()).toEqual([0, 0, 2, 0, 3]);
  });

  it('gives a backprop variant equal to grad through relu, also at x = 0', async () => {
    const x = tensor([-2, -0.5, 0, 0.5, 2]);
    const w = tensor([1, -1, 2, -3, 0.5]);
    const f = (relu: (t: Tensor) => Tensor) => (t: Tensor) => relu(t).mul(w).sum();
    expect(await grad(f(relus.backprop))(x).array()).toEqual(await grad(f((t) => t.relu()))(x).array());
    // upstream g = w: backprop passes w where x > 0, deconvnet where w > 0, guided where both
    const [, pullback] = vjp(relus.guided, x);
    const [dx] = pullback(w);
    expect(await dx.array()).toEqual([0, 0, 0, 0, 0.5]);
    expect(r.backpropIsGrad).toBe(true);
    expect(r.maps.stroke.backprop).toEqual(r.plainGrad.stroke);
    expect(r.maps.ring.backprop).toEqual(r.plainGrad.ring);
  });

  it('makes saliency maps: guided looks like the image, deconvnet ignores it', () => {
    const row = (rule: string) => r.rows.find((x) => x.rule === rule)!;
    for (const image of ['stroke', 'ring'] as const) {
      const m = r.maps[image];
      expect(m.image).toHaveLength(8);
      for (const k of ['backprop', 'deconvnet', 'guided'] as const) {
        expect(m[k]).toHaveLength(8);
        expect(m[k].every((line) => line.length === 8 && line.every(Number.isFinite))).toBe(true);
      }
    }
    // no pooling, so the deconvnet's backward pass never reads the input: one map for every image
    expect(r.maps.stroke.deconvnet).toEqual(r.maps.ring.deconvnet);
    expect(row('deconvnet')['same map for both images']).toBe('yes');
    expect(row('backprop')['same map for both images']).toBe('no');
    expect(row('guided')['same map for both images']).toBe('no');
    for (const key of ['correlation with the stroke', 'correlation with the ring'] as const) {
      expect(row('guided')[key]).toBeGreaterThan(0.6);
      expect(Math.abs(row('backprop')[key])).toBeLessThan(0.4);
      expect(Math.abs(row('deconvnet')[key])).toBeLessThan(0.4);
    }
  });

  it('plots the example and the maps', () => {
    expect(rec.plots).toHaveLength(2);
  });
});

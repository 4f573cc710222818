// The page's ctx.print formats values like Node's util.format (which the note tests record), so a
// note prints the same lines in the page and in its test.
import { format as nodeFormat } from 'node:util';
import { describe, expect, it } from 'vitest';
import { format } from '../src/runtime/format.js';

const cases: unknown[][] = [
  ['hello'],
  ['a + b =', [[11, 22, 33], [14, 25, 36]]],
  ['row sums =', [66, 75]],
  [1.5, -0, true, null, undefined],
  ['loss %d at step %i: %s', 0.25, 3.7, 'ok'],
  ['%s%%', 50],
  ['%j', { a: [1, 2] }],
  [{ mean: 0.5, std: 1, name: 'x' }],
  [[]],
  [{}],
  [['a', "it's", 'say "hi"', 'both \' and "', 'back\\slash', 'new\nline']],
  [new Float32Array([1, 2, 3])],
  [{ nested: { deeper: { deepest: { x: 1 } } } }],
  [Array.from({ length: 5 }, (_, i) => i * 0.5)],
];

describe('page format', () => {
  it.each(cases.map((c) => [nodeFormat(...c), c] as const))('formats like util.format: %s', (expected, values) => {
    expect(format(...values)).toBe(expected);
  });
});

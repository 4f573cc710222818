import { BPETokenizer, CharTokenizer } from '@ml/data';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

describe('CharTokenizer', () => {
  it('ids are the sorted distinct characters; encode/decode round trip', () => {
    const tok = new CharTokenizer('hello world');
    expect(tok.chars).toEqual([' ', 'd', 'e', 'h', 'l', 'o', 'r', 'w']);
    expect(tok.vocabSize).toBe(8);
    expect(tok.encode('hello')).toEqual([3, 2, 4, 4, 5]);
    expect(tok.decode(tok.encode('world hello'))).toBe('world hello');
  });

  it('characters are code points (an emoji is one token), sorted by code point', () => {
    const tok = new CharTokenizer('a😀b\uFFFDa');
    expect(tok.chars).toEqual(['a', 'b', '\uFFFD', '😀']);
    expect(tok.encode('😀a')).toEqual([3, 0]);
    expect(tok.decode([3, 2, 1])).toBe('😀\uFFFDb');
  });

  it('round trips any text made of its characters', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', minLength: 1 }), fc.array(fc.nat(), { maxLength: 40 }), (text, picks) => {
        const tok = new CharTokenizer(text);
        const chars = [...text];
        const s = picks.map((p) => chars[p % chars.length]).join('');
        expect(tok.decode(tok.encode(s))).toBe(s);
        expect(tok.encode(s)).toHaveLength([...s].length);
      }),
    );
  });

  it('unknown characters and ids are errors; JSON round trip', () => {
    const tok = new CharTokenizer('abc');
    expect(() => tok.encode('abxc')).toThrow('CharTokenizer.encode: character "x" (U+0078) at index 2 is not in the vocabulary (3 characters)');
    expect(() => tok.decode([0, 3])).toThrow('CharTokenizer.decode: id 3 at position 1 is out of range [0, 3)');
    expect(() => tok.decode([0.5])).toThrow('out of range');
    const back = CharTokenizer.fromJSON(JSON.parse(JSON.stringify(tok)));
    expect(back.chars).toEqual(tok.chars);
    expect(() => CharTokenizer.fromJSON({ type: 'char', chars: ['b', 'a'] })).toThrow('chars must be distinct and sorted by code point');
  });
});

/** An independent, plain reference of BPE training (minbpe's get_stats / merge with string keys). */
function referenceMerges(base: number[], numMerges: number, firstId: number): [number, number][] {
  let ids = [...base];
  const merges: [number, number][] = [];
  for (let k = 0; k < numMerges && ids.length >= 2; k++) {
    const stats: Record<string, number> = {};
    const order: string[] = [];
    for (let i = 0; i < ids.length - 1; i++) {
      const key = `${ids[i]},${ids[i + 1]}`;
      if (!(key in stats)) order.push(key);
      stats[key] = (stats[key] ?? 0) + 1;
    }
    let best = order[0];
    for (const key of order) if (stats[key] > stats[best]) best = key; // first of the most frequent
    const [a, b] = best.split(',').map(Number);
    merges.push([a, b]);
    const next: number[] = [];
    for (let i = 0; i < ids.length; i++) {
      if (i < ids.length - 1 && ids[i] === a && ids[i + 1] === b) {
        next.push(firstId + k);
        i++;
      } else next.push(ids[i]);
    }
    ids = next;
  }
  return merges;
}

describe('BPETokenizer', () => {
  it('the worked example: "abcdeababce" → "XcdeXXce" (X = ab) → "YdeXYe" (Y = Xc)', () => {
    const text = 'abcdeababce';
    const one = BPETokenizer.train(text, { numMerges: 1, level: 'char' });
    expect(one.alphabet).toEqual(['a', 'b', 'c', 'd', 'e']);
    expect(one.merges).toEqual([[0, 1]]); // a, b
    expect(one.tokens(text)).toEqual(['ab', 'c', 'd', 'e', 'ab', 'ab', 'c', 'e']); // X c d e X X c e
    const two = BPETokenizer.train(text, { numMerges: 2, level: 'char' });
    expect(two.merges).toEqual([[0, 1], [5, 2]]); // X = 5 = ab; Y = X c
    const X = 5;
    const Y = 6;
    expect(two.encode(text)).toEqual([Y, 3, 4, X, Y, 4]); // Y d e X Y e
    expect(two.tokens(text)).toEqual(['abc', 'd', 'e', 'ab', 'abc', 'e']);
    expect(two.vocabSize).toBe(7);
    expect(two.decode(two.encode(text))).toBe(text);
  });

  it('ties go to the pair that occurs first', () => {
    // "cd" and "ab" both occur twice; "cd" comes first (lexicographic order would pick "ab")
    const tok = BPETokenizer.train('cdcdabab', { numMerges: 1, level: 'char' });
    expect(tok.token(tok.merges[0][0]) + tok.token(tok.merges[0][1])).toBe('cd');
  });

  it('training agrees with an independent reference implementation', () => {
    fc.assert(
      fc.property(fc.string({ unit: fc.constantFrom('a', 'b', 'c', ' ', 'é'), maxLength: 60 }), fc.integer({ min: 0, max: 12 }), (text, n) => {
        const bytes = Array.from(new TextEncoder().encode(text));
        expect(BPETokenizer.train(text, { numMerges: n }).merges).toEqual(referenceMerges(bytes, n, 256));
        const alphabet = [...new Set(text)].sort();
        const chars = [...text].map((c) => alphabet.indexOf(c));
        expect(BPETokenizer.train(text, { numMerges: n, level: 'char' }).merges).toEqual(referenceMerges(chars, n, alphabet.length));
      }),
    );
  });

  const corpus = 'the quick brown fox jumps over the lazy dog; the dog sleeps. Ünïcödé façade — 東京 🙂🙂 '.repeat(8);
  const bpe = BPETokenizer.train(corpus, { vocabSize: 300 });

  it('byte level: vocabSize = 256 + merges; compresses its training text; round trips it', () => {
    expect(bpe.vocabSize).toBe(300);
    expect(BPETokenizer.train(corpus, 300).merges).toEqual(bpe.merges); // a number is the vocabSize
    expect(bpe.merges).toHaveLength(44);
    const ids = bpe.encode(corpus);
    expect(ids.length).toBeLessThan(new TextEncoder().encode(corpus).length / 2);
    expect(bpe.decode(ids)).toBe(corpus);
  });

  it('round trips arbitrary Unicode exactly', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), (s) => {
        expect(bpe.decode(bpe.encode(s))).toBe(s);
      }),
      { numRuns: 300 },
    );
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme' }), (s) => {
        expect(bpe.decode(bpe.encode(s))).toBe(s);
      }),
      { numRuns: 300 },
    );
  });

  it('JSON save/load gives an equal tokenizer', () => {
    const json = JSON.stringify(bpe);
    const back = BPETokenizer.fromJSON(json);
    expect(back.toJSON()).toEqual(bpe.toJSON());
    expect(JSON.parse(json).vocab[256 + 0]).toBe(bpe.token(256));
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), (s) => {
        expect(back.encode(s)).toEqual(bpe.encode(s));
      }),
      { numRuns: 100 },
    );
    const chars = BPETokenizer.train('abcdeababce', { numMerges: 2, level: 'char' });
    const charsBack = BPETokenizer.fromJSON(JSON.parse(JSON.stringify(chars)));
    expect(charsBack.encode('abcdeababce')).toEqual(chars.encode('abcdeababce'));
    expect(charsBack.toJSON()).toEqual(chars.toJSON());
  });

  it('a sequence cut inside a character decodes to U+FFFD, or throws when fatal', () => {
    const raw = BPETokenizer.train('', { numMerges: 0 });
    const ids = raw.encode('é'); // C3 A9
    expect(ids).toEqual([0xc3, 0xa9]);
    expect(raw.decode([0xc3])).toBe('\uFFFD');
    expect(() => raw.decode([0xc3], { fatal: true })).toThrow('BPETokenizer.decode: the ids do not form valid UTF-8');
    expect(Array.from(raw.decodeBytes(ids))).toEqual([0xc3, 0xa9]);
  });

  it('bad input is an error, never a silent wrong answer', () => {
    expect(() => bpe.encode('a\uD800b')).toThrow('BPETokenizer.encode: lone surrogate U+D800 at index 1');
    expect(() => bpe.decode([300])).toThrow('BPETokenizer.decode: id 300 at position 0 is out of range [0, 300)');
    expect(() => BPETokenizer.train('abc', { vocabSize: 100 })).toThrow('BPETokenizer.train: vocabSize must be an integer ≥ 256 (the 256 base tokens), got 100');
    expect(() => BPETokenizer.train('abc', { vocabSize: 300, numMerges: 3 })).toThrow('give exactly one of vocabSize and numMerges');
    expect(() => BPETokenizer.train('abc', {})).toThrow('give exactly one of vocabSize and numMerges');
    expect(() => BPETokenizer.train('abc', { numMerges: 1, level: 'word' as never })).toThrow("level must be 'byte' or 'char'");
    const chars = BPETokenizer.train('abab', { numMerges: 1, level: 'char' });
    expect(() => chars.encode('abc')).toThrow('BPETokenizer.encode: character "c" at index 2 is not in the alphabet of this char-level tokenizer (2 characters)');
    expect(() => BPETokenizer.fromJSON({ type: 'bpe', version: 1, level: 'byte', alphabet: [], merges: [[1, 256]], vocab: [] })).toThrow(
      'BPETokenizer: merges[0] must be a pair of earlier token ids (< 256), got [1,256]',
    );
    expect(() => BPETokenizer.fromJSON({ type: 'nope' } as never)).toThrow('BPETokenizer.fromJSON: expected');
  });

  it('training stops early when the whole text is one token', () => {
    const tok = BPETokenizer.train('abcd', { numMerges: 10, level: 'char' });
    expect(tok.merges).toHaveLength(3);
    expect(tok.encode('abcd')).toEqual([6]);
  });
});

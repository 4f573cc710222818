/**
 * Byte-pair encoding (BPE), trained from a text: start from single bytes (or characters) and
 * repeatedly merge the most frequent adjacent pair of tokens into a new token (Sennrich et al.
 * 2016; the GPT-2 tokenizer without its regex pre-split, as Karpathy's minbpe `BasicTokenizer`).
 */
import { byCodePoint } from './char-tokenizer.js';

/** What the base tokens are: the 256 byte values, or the distinct characters of the training text. */
export type BPELevel = 'byte' | 'char';

/** A BPE tokenizer as JSON (see {@link BPETokenizer.toJSON}). */
export interface BPEJson {
  type: 'bpe';
  version: 1;
  level: BPELevel;
  /** Base tokens of a char-level tokenizer (ids `0..alphabet.length − 1`); empty for bytes. */
  alphabet: string[];
  /** `merges[k] = [a, b]`: token `base + k` is token `a` followed by token `b`. */
  merges: [number, number][];
  /** Every token's text, for reading (ignored when loading; bytes that are not UTF-8 show as U+FFFD). */
  vocab: string[];
}

/** Options of {@link BPETokenizer.train}: give `vocabSize` or `numMerges`. */
export interface BPETrainOptions {
  /** Size of the final vocabulary: base tokens + merges. */
  vocabSize?: number;
  /** Number of merges to learn. */
  numMerges?: number;
  /** `'byte'` (default): base tokens are the 256 bytes of UTF-8; `'char'`: the text's characters. */
  level?: BPELevel;
}

const MAX_ID = 2 ** 26; // pair keys a·2^26 + b stay exact in float64
const pairKey = (a: number, b: number) => a * MAX_ID + b;
const utf8 = new TextEncoder();
const LONE_SURROGATE = /[\uD800-\uDFFF]/u; // with the u flag, only unpaired halves match

/** `ids` with every non-overlapping occurrence of `(a, b)`, left to right, replaced by `id`. */
function mergePair(ids: Int32Array, a: number, b: number, id: number): Int32Array<ArrayBuffer> {
  const out = new Int32Array(ids.length);
  let n = 0;
  for (let i = 0; i < ids.length; i++) {
    if (i + 1 < ids.length && ids[i] === a && ids[i + 1] === b) {
      out[n++] = id;
      i++;
    } else {
      out[n++] = ids[i];
    }
  }
  return out.slice(0, n);
}

/**
 * A byte-pair-encoding tokenizer.
 *
 * Training: `ids` ← the base tokens of the text; then, `numMerges` times, count every adjacent
 * pair `(ids[i], ids[i+1])`, take the most frequent pair, give it the next id and replace its
 * occurrences (left to right, non-overlapping). **Ties** go to the pair that occurs **first** in
 * the current sequence (minbpe's rule, as Python's `max` over an insertion-ordered dict). Training
 * stops early when no pair is left (the whole text is one token).
 *
 * Encoding applies the learned merges in the order they were learned (repeatedly merging the
 * present pair with the lowest id), so it reproduces training on the training text.
 *
 * Byte level (default): any string encodes, and `decode(encode(s)) === s` for every well-formed
 * string (a lone UTF-16 surrogate has no UTF-8 encoding and is an error). Char level: base tokens are
 * the characters of the training text, and other characters are an error.
 *
 * @example
 * ```ts
 * const bpe = BPETokenizer.train('abcdeababce', { numMerges: 2, level: 'char' });
 * bpe.tokens('abcdeababce'); // ['abc', 'd', 'e', 'ab', 'abc', 'e']  ("YdeXYe": X = ab, Y = Xc)
 * const gpt = BPETokenizer.train(text, { vocabSize: 512 });       // 256 bytes + 256 merges
 * gpt.decode(gpt.encode('héllo 👋')) === 'héllo 👋';
 * ```
 */
export class BPETokenizer {
  readonly level: BPELevel;
  /** Base tokens of a char-level tokenizer; empty at byte level. */
  readonly alphabet: readonly string[];
  /** `merges[k] = [a, b]`: token `base + k` is `a` followed by `b`. */
  readonly merges: readonly (readonly [number, number])[];
  readonly #base: number;
  readonly #rank = new Map<number, number>(); // pair key → merged id
  readonly #charIds: Map<string, number>;
  readonly #bytes: Uint8Array[] = []; // byte level: each token's bytes
  readonly #text: string[] = []; // char level: each token's text

  /** Prefer {@link BPETokenizer.train} or {@link BPETokenizer.fromJSON}; this validates its input. */
  constructor(level: BPELevel, alphabet: readonly string[], merges: readonly (readonly [number, number])[]) {
    const op = 'BPETokenizer';
    if (level !== 'byte' && level !== 'char') throw new Error(`${op}: level must be 'byte' or 'char', got ${String(level)}`);
    if (level === 'byte' && alphabet.length !== 0) throw new Error(`${op}: a byte-level tokenizer has no alphabet`);
    alphabet.forEach((c, i) => {
      if (typeof c !== 'string' || [...c].length !== 1) throw new Error(`${op}: alphabet[${i}] must be one character`);
    });
    if (new Set(alphabet).size !== alphabet.length) throw new Error(`${op}: alphabet has repeated characters`);
    this.level = level;
    this.alphabet = Object.freeze([...alphabet]);
    this.#base = level === 'byte' ? 256 : alphabet.length;
    this.#charIds = new Map(alphabet.map((c, i) => [c, i]));
    if (level === 'byte') for (let b = 0; b < 256; b++) this.#bytes.push(Uint8Array.of(b));
    else this.#text.push(...alphabet);
    if (this.#base + merges.length > MAX_ID) throw new Error(`${op}: at most ${MAX_ID} tokens`);
    merges.forEach((m, k) => {
      const id = this.#base + k;
      if (!Array.isArray(m) || m.length !== 2 || !m.every((t) => Number.isInteger(t) && t >= 0 && t < id)) {
        throw new Error(`${op}: merges[${k}] must be a pair of earlier token ids (< ${id}), got ${JSON.stringify(m)}`);
      }
      const key = pairKey(m[0], m[1]);
      if (this.#rank.has(key)) throw new Error(`${op}: merges[${k}] repeats the pair ${JSON.stringify(m)}`);
      this.#rank.set(key, id);
      if (level === 'byte') {
        const [a, b] = [this.#bytes[m[0]], this.#bytes[m[1]]];
        const t = new Uint8Array(a.length + b.length);
        t.set(a);
        t.set(b, a.length);
        this.#bytes.push(t);
      } else {
        this.#text.push(this.#text[m[0]] + this.#text[m[1]]);
      }
    });
    this.merges = Object.freeze(merges.map(([a, b]) => Object.freeze([a, b] as const)));
  }

  /**
   * Learns a tokenizer from `text` (see the class notes for the algorithm and tie-breaking).
   * @param opts  `vocabSize` (base + merges) or `numMerges`; `level` `'byte'` (default) or `'char'`.
   *   A number is the `vocabSize` of a byte-level tokenizer.
   */
  static train(text: string, opts: BPETrainOptions | number): BPETokenizer {
    const op = 'BPETokenizer.train';
    if (typeof text !== 'string') throw new TypeError(`${op}: text must be a string`);
    if (typeof opts === 'number') opts = { vocabSize: opts };
    const level = opts?.level ?? 'byte';
    if (level !== 'byte' && level !== 'char') throw new Error(`${op}: level must be 'byte' or 'char', got ${String(level)}`);
    const alphabet = level === 'char' ? [...new Set(text)].sort(byCodePoint) : [];
    const base = level === 'byte' ? 256 : alphabet.length;
    const { vocabSize, numMerges } = opts;
    if ((vocabSize === undefined) === (numMerges === undefined)) throw new Error(`${op}: give exactly one of vocabSize and numMerges`);
    const merges = numMerges ?? vocabSize! - base;
    if (!Number.isInteger(merges) || merges < 0) {
      const what = numMerges !== undefined ? `numMerges must be a non-negative integer, got ${String(numMerges)}` : `vocabSize must be an integer ≥ ${base} (the ${base} base tokens), got ${String(vocabSize)}`;
      throw new Error(`${op}: ${what}`);
    }
    if (level === 'byte') checkWellFormed(op, text);
    const charIds = new Map(alphabet.map((c, i) => [c, i]));
    let ids = level === 'byte' ? Int32Array.from(utf8.encode(text)) : Int32Array.from(text, (c) => charIds.get(c)!);
    const learned: [number, number][] = [];
    for (let k = 0; k < merges && ids.length >= 2; k++) {
      // count pairs; Map iteration follows first occurrence, so `>` keeps the earliest of equals
      const counts = new Map<number, number>();
      for (let i = 0; i + 1 < ids.length; i++) {
        const key = pairKey(ids[i], ids[i + 1]);
        counts.set(key, (counts.get(key) ?? 0) + 1);
      }
      let best = -1;
      let bestCount = 0;
      for (const [key, c] of counts) {
        if (c > bestCount) {
          best = key;
          bestCount = c;
        }
      }
      const a = Math.floor(best / MAX_ID);
      const b = best - a * MAX_ID;
      learned.push([a, b]);
      ids = mergePair(ids, a, b, base + k);
    }
    return new BPETokenizer(level, alphabet, learned);
  }

  /** Base tokens + merges. */
  get vocabSize(): number {
    return this.#base + this.merges.length;
  }

  /** The token ids of `text`. */
  encode(text: string): number[] {
    const op = 'BPETokenizer.encode';
    if (typeof text !== 'string') throw new TypeError(`${op}: text must be a string`);
    let ids: Int32Array;
    if (this.level === 'byte') {
      checkWellFormed(op, text);
      ids = Int32Array.from(utf8.encode(text));
    } else {
      const chars = [...text];
      ids = new Int32Array(chars.length);
      let at = 0;
      chars.forEach((c, i) => {
        const id = this.#charIds.get(c);
        if (id === undefined) {
          throw new Error(`${op}: character ${JSON.stringify(c)} at index ${at} is not in the alphabet of this char-level tokenizer (${this.#base} characters)`);
        }
        ids[i] = id;
        at += c.length;
      });
    }
    // repeatedly merge the present pair that was learned first
    while (ids.length >= 2) {
      let bestId = Infinity;
      for (let i = 0; i + 1 < ids.length; i++) {
        const id = this.#rank.get(pairKey(ids[i], ids[i + 1]));
        if (id !== undefined && id < bestId) bestId = id;
      }
      if (bestId === Infinity) break;
      const [a, b] = this.merges[bestId - this.#base];
      ids = mergePair(ids, a, b, bestId);
    }
    return Array.from(ids);
  }

  #check(op: string, ids: ArrayLike<number>): void {
    for (let i = 0; i < ids.length; i++) {
      if (!Number.isInteger(ids[i]) || ids[i] < 0 || ids[i] >= this.vocabSize) {
        throw new RangeError(`${op}: id ${String(ids[i])} at position ${i} is out of range [0, ${this.vocabSize})`);
      }
    }
  }

  /** The UTF-8 bytes of a sequence of ids (byte level), or of its text (char level). */
  decodeBytes(ids: ArrayLike<number>): Uint8Array {
    this.#check('BPETokenizer.decodeBytes', ids);
    if (this.level === 'char') return utf8.encode(this.decode(ids));
    let n = 0;
    for (let i = 0; i < ids.length; i++) n += this.#bytes[ids[i]].length;
    const out = new Uint8Array(n);
    for (let i = 0, at = 0; i < ids.length; i++) {
      out.set(this.#bytes[ids[i]], at);
      at += this.#bytes[ids[i]].length;
    }
    return out;
  }

  /**
   * The text of a sequence of ids. At byte level, a sequence cut in the middle of a character
   * (as a model may generate) decodes its broken bytes to U+FFFD, unless `fatal` is set.
   */
  decode(ids: ArrayLike<number>, opts: { fatal?: boolean } = {}): string {
    this.#check('BPETokenizer.decode', ids);
    if (this.level === 'char') {
      let s = '';
      for (let i = 0; i < ids.length; i++) s += this.#text[ids[i]];
      return s;
    }
    try {
      return new TextDecoder('utf-8', { fatal: opts.fatal ?? false }).decode(this.decodeBytes(ids));
    } catch {
      throw new Error('BPETokenizer.decode: the ids do not form valid UTF-8 (a character is cut between tokens)');
    }
  }

  /** The text of token `id` (at byte level, bytes that are not UTF-8 on their own show as U+FFFD). */
  token(id: number): string {
    this.#check('BPETokenizer.token', [id]);
    return this.level === 'char' ? this.#text[id] : new TextDecoder().decode(this.#bytes[id]);
  }

  /** The text of each token of `text`'s encoding. */
  tokens(text: string): string[] {
    return this.encode(text).map((id) => this.token(id));
  }

  /** The tokenizer as plain JSON data: level, alphabet, merges, and each token's text. */
  toJSON(): BPEJson {
    return {
      type: 'bpe',
      version: 1,
      level: this.level,
      alphabet: [...this.alphabet],
      merges: this.merges.map(([a, b]) => [a, b]),
      vocab: Array.from({ length: this.vocabSize }, (_, id) => this.token(id)),
    };
  }

  /** The tokenizer saved by {@link BPETokenizer.toJSON} (validated: merges refer to earlier tokens). */
  static fromJSON(json: BPEJson | string): BPETokenizer {
    const obj = (typeof json === 'string' ? JSON.parse(json) : json) as Partial<BPEJson>;
    if (obj?.type !== 'bpe' || obj.version !== 1 || !Array.isArray(obj.merges)) {
      throw new Error('BPETokenizer.fromJSON: expected { type: "bpe", version: 1, level, alphabet, merges }');
    }
    return new BPETokenizer(obj.level as BPELevel, obj.alphabet ?? [], obj.merges);
  }
}

function checkWellFormed(op: string, text: string): void {
  const m = LONE_SURROGATE.exec(text);
  if (m) {
    const code = text.charCodeAt(m.index).toString(16).toUpperCase();
    throw new Error(`${op}: lone surrogate U+${code} at index ${m.index}: the string is not valid Unicode and has no UTF-8 encoding`);
  }
}

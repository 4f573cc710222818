/** A character-level tokenizer: one id per distinct character of a text (Karpathy's GPT lecture). */

/** Compares two one-code-point strings by code point (Python's `sorted` on characters). */
export function byCodePoint(a: string, b: string): number {
  return a.codePointAt(0)! - b.codePointAt(0)!;
}

function show(ch: string): string {
  return `${JSON.stringify(ch)} (U+${ch.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')})`;
}

/**
 * Maps each distinct character (Unicode code point) of a text to an id: the characters sorted by
 * code point get ids `0, 1, …, vocabSize − 1` (`sorted(set(text))` in Python).
 *
 * @example
 * ```ts
 * const tok = new CharTokenizer('hello world');
 * tok.encode('hello');           // [3, 2, 4, 4, 5]
 * tok.decode(tok.encode('hi'));  // throws: 'i' is not in the vocabulary
 * ```
 */
export class CharTokenizer {
  /** The vocabulary: `chars[id]` is the character of `id`. */
  readonly chars: readonly string[];
  readonly #ids: Map<string, number>;

  /** Builds the vocabulary from the distinct characters of `text`. */
  constructor(text: string) {
    if (typeof text !== 'string') throw new TypeError('CharTokenizer: text must be a string');
    this.chars = Object.freeze([...new Set(text)].sort(byCodePoint));
    this.#ids = new Map(this.chars.map((c, i) => [c, i]));
  }

  /** Number of distinct characters. */
  get vocabSize(): number {
    return this.chars.length;
  }

  /** The id of every character of `text`. Throws on a character outside the vocabulary. */
  encode(text: string): number[] {
    const out: number[] = [];
    let at = 0;
    for (const ch of text) {
      const id = this.#ids.get(ch);
      if (id === undefined) {
        throw new Error(`CharTokenizer.encode: character ${show(ch)} at index ${at} is not in the vocabulary (${this.vocabSize} characters)`);
      }
      out.push(id);
      at += ch.length;
    }
    return out;
  }

  /** The text of a sequence of ids. Throws on an id outside `[0, vocabSize)`. */
  decode(ids: ArrayLike<number>): string {
    let s = '';
    for (let i = 0; i < ids.length; i++) {
      const ch = this.chars[ids[i]];
      if (!Number.isInteger(ids[i]) || ch === undefined) {
        throw new RangeError(`CharTokenizer.decode: id ${String(ids[i])} at position ${i} is out of range [0, ${this.vocabSize})`);
      }
      s += ch;
    }
    return s;
  }

  /** `{ type: 'char', chars }`, for JSON. */
  toJSON(): { type: 'char'; chars: string[] } {
    return { type: 'char', chars: [...this.chars] };
  }

  /** The tokenizer saved by `toJSON`. */
  static fromJSON(json: { type: 'char'; chars: string[] }): CharTokenizer {
    if (json?.type !== 'char' || !Array.isArray(json.chars)) throw new Error('CharTokenizer.fromJSON: expected { type: "char", chars: string[] }');
    const chars = json.chars;
    chars.forEach((c, i) => {
      if (typeof c !== 'string' || [...c].length !== 1) throw new Error(`CharTokenizer.fromJSON: chars[${i}] must be one character`);
      if (i > 0 && byCodePoint(chars[i - 1], c) >= 0) throw new Error('CharTokenizer.fromJSON: chars must be distinct and sorted by code point');
    });
    return new CharTokenizer(chars.join(''));
  }
}

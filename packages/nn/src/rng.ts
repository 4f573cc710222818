/**
 * Where layers get their randomness when no key is passed: one seeded stream, like
 * `torch.manual_seed`. Every layer also takes an explicit `key` for code that wants JAX-style
 * control; the two never mix within one draw.
 */
import { random } from '@ml/tensor';
import type { Key } from '@ml/tensor';

let base: Key = random.key(0);
let counter = 0;

/** Reseeds the default stream: the layers created afterwards are initialised reproducibly. */
export function manualSeed(seed: number): void {
  base = random.key(seed);
  counter = 0;
}

/** The next key of the default stream (each call returns a different key). */
export function nextKey(): Key {
  return random.fold(base, counter++);
}

/**
 * A stream of keys for a layer that draws on every call (Dropout): starts from `key`, or from the
 * default stream when none is given.
 */
export class KeyStream {
  #base: Key;
  #count = 0;

  constructor(key?: Key) {
    this.#base = key ?? nextKey();
  }

  next(): Key {
    return random.fold(this.#base, this.#count++);
  }
}

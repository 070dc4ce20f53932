import { RecencyMap } from "./recency-map";

/**
 * A Map that holds at most `maxSize` keys: setting a new key past the bound evicts the least
 * recently set one (a re-set key moves to the back). A Map subclass, so it fits APIs that take
 * a Map, such as @upstash/ratelimit's `ephemeralCache`. The order lives in a RecencyMap beside
 * the Map's own storage, so finding the oldest key never walks the Map's deleted entries.
 */
export class LruMap<K, V> extends Map<K, V> {
  readonly #order = new RecencyMap<K, true>();

  constructor(readonly maxSize: number) {
    super();
    if (!Number.isInteger(maxSize) || maxSize < 1) throw new RangeError(`LruMap maxSize must be a positive integer, got ${maxSize}`);
  }

  override set(key: K, value: V): this {
    if (super.has(key)) super.delete(key); // iteration order follows recency too
    super.set(key, value);
    this.#order.set(key, true);
    if (this.size > this.maxSize) {
      const oldest = this.#order.oldest();
      if (oldest) this.delete(oldest[0]);
    }
    return this;
  }

  override delete(key: K): boolean {
    this.#order.delete(key);
    return super.delete(key);
  }

  override clear(): void {
    this.#order.clear();
    super.clear();
  }
}

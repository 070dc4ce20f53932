/**
 * A Map that holds at most `maxSize` keys: setting a new key past the bound evicts the least
 * recently set one (a re-set key moves to the back). A Map subclass, so it fits APIs that take
 * a Map, such as @upstash/ratelimit's `ephemeralCache`.
 */
export class LruMap<K, V> extends Map<K, V> {
  constructor(readonly maxSize: number) {
    super();
    if (!Number.isInteger(maxSize) || maxSize < 1) throw new RangeError(`LruMap maxSize must be a positive integer, got ${maxSize}`);
  }

  override set(key: K, value: V): this {
    if (this.has(key)) this.delete(key);
    super.set(key, value);
    if (this.size > this.maxSize) {
      const oldest = this.keys().next();
      if (!oldest.done) this.delete(oldest.value);
    }
    return this;
  }
}

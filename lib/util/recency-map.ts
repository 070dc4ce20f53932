/**
 * A map that keeps its keys in the order they were last set, with the oldest one at hand in
 * O(1): the structure behind the bounded in-process stores (evict the oldest-written key, drop
 * expired keys from the oldest end).
 *
 * Why not a plain Map used as a queue: V8 leaves a deleted Map entry as a hole in its table
 * until the next rehash, and iteration skips holes one by one. A Map that deletes at the front
 * and re-inserts at the back (every write here) therefore makes `keys().next()` walk over every
 * hole since the last rehash: about 60 µs per write at 50,000 keys on this machine, against
 * well under 1 µs here (docs/PERFORMANCE.md, change 13). This keeps the order in a doubly linked
 * list beside the Map, whose holes are then never walked.
 */
interface Node<K, V> {
  key: K;
  value: V;
  older: Node<K, V> | undefined;
  newer: Node<K, V> | undefined;
}

export class RecencyMap<K, V> {
  private readonly nodes = new Map<K, Node<K, V>>();
  private oldestNode: Node<K, V> | undefined;
  private newestNode: Node<K, V> | undefined;

  get size(): number {
    return this.nodes.size;
  }

  has(key: K): boolean {
    return this.nodes.has(key);
  }

  get(key: K): V | undefined {
    return this.nodes.get(key)?.value;
  }

  /** Sets the value and makes the key the newest. */
  set(key: K, value: V): this {
    const node = this.nodes.get(key);
    if (node) {
      node.value = value;
      if (node !== this.newestNode) {
        this.unlink(node);
        this.append(node);
      }
    } else {
      const created: Node<K, V> = { key, value, older: undefined, newer: undefined };
      this.nodes.set(key, created);
      this.append(created);
    }
    return this;
  }

  delete(key: K): boolean {
    const node = this.nodes.get(key);
    if (!node) return false;
    this.nodes.delete(key);
    this.unlink(node);
    return true;
  }

  /** The least recently set entry, or undefined when empty. */
  oldest(): [K, V] | undefined {
    const node = this.oldestNode;
    return node ? [node.key, node.value] : undefined;
  }

  clear(): void {
    this.nodes.clear();
    this.oldestNode = undefined;
    this.newestNode = undefined;
  }

  /** Oldest first. Deleting the entry just yielded is safe; other changes meanwhile are not. */
  *[Symbol.iterator](): IterableIterator<[K, V]> {
    let node = this.oldestNode;
    while (node) {
      const newer = node.newer;
      yield [node.key, node.value];
      node = newer;
    }
  }

  keys(): IterableIterator<K> {
    return (function* (entries: Iterable<[K, V]>) {
      for (const [key] of entries) yield key;
    })(this);
  }

  private append(node: Node<K, V>): void {
    node.older = this.newestNode;
    node.newer = undefined;
    if (this.newestNode) this.newestNode.newer = node;
    else this.oldestNode = node;
    this.newestNode = node;
  }

  private unlink(node: Node<K, V>): void {
    if (node.older) node.older.newer = node.newer;
    else this.oldestNode = node.newer;
    if (node.newer) node.newer.older = node.older;
    else this.newestNode = node.older;
    node.older = undefined;
    node.newer = undefined;
  }
}

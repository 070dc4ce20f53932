import { describe, expect, it } from "vitest";
import { LruMap } from "./lru-map";
import { RecencyMap } from "./recency-map";

describe("RecencyMap", () => {
  it("keeps keys in the order they were last set; the oldest is at hand", () => {
    const map = new RecencyMap<string, number>();
    expect(map.oldest()).toBeUndefined();
    map.set("a", 1).set("b", 2).set("c", 3).set("a", 4);
    expect([...map]).toEqual([["b", 2], ["c", 3], ["a", 4]]);
    expect([...map.keys()]).toEqual(["b", "c", "a"]);
    expect(map.oldest()).toEqual(["b", 2]);
    expect(map.get("a")).toBe(4);
    expect(map.has("z")).toBe(false);
    expect(map.size).toBe(3);
  });

  it("deletes from the oldest end, the newest end and the middle", () => {
    const map = new RecencyMap<number, number>();
    for (let i = 0; i < 5; i++) map.set(i, i);
    expect(map.delete(0)).toBe(true);
    expect(map.delete(4)).toBe(true);
    expect(map.delete(2)).toBe(true);
    expect(map.delete(2)).toBe(false);
    expect([...map.keys()]).toEqual([1, 3]);
    map.set(5, 5);
    expect([...map.keys()]).toEqual([1, 3, 5]);
    map.clear();
    expect([...map]).toEqual([]);
    expect(map.oldest()).toBeUndefined();
    map.set(9, 9);
    expect([...map]).toEqual([[9, 9]]);
  });

  it("deleting the entry just yielded while iterating goes on with the next", () => {
    const map = new RecencyMap<number, number>();
    for (let i = 0; i < 6; i++) map.set(i, i);
    const seen: number[] = [];
    for (const [key] of map) {
      seen.push(key);
      if (key % 2 === 0) map.delete(key);
    }
    expect(seen).toEqual([0, 1, 2, 3, 4, 5]);
    expect([...map.keys()]).toEqual([1, 3, 5]);
  });

  it("matches a Map kept in write order over random operations", () => {
    let seed = 7;
    const random = () => (seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31;
    const map = new RecencyMap<number, number>();
    const model = new Map<number, number>();
    for (let i = 0; i < 20_000; i++) {
      const key = Math.floor(random() * 300);
      const op = random();
      if (op < 0.6) {
        map.set(key, i);
        model.delete(key);
        model.set(key, i);
      } else if (op < 0.9) {
        expect(map.delete(key)).toBe(model.delete(key));
      } else {
        const oldest = map.oldest();
        const first = model.entries().next();
        expect(oldest).toEqual(first.done ? undefined : first.value);
      }
    }
    expect([...map]).toEqual([...model]);
    expect(map.size).toBe(model.size);
  });
});

describe("LruMap keeps its order in a RecencyMap", () => {
  it("evicts the least recently set key after deletes, clears and re-sets", () => {
    const map = new LruMap<string, number>(3);
    map.set("a", 1).set("b", 2).set("c", 3);
    map.delete("a");
    map.set("d", 4).set("b", 5).set("e", 6); // full at d; e evicts c, the oldest
    expect([...map.keys()]).toEqual(["d", "b", "e"]);
    map.clear();
    map.set("x", 1).set("y", 2).set("z", 3).set("w", 4);
    expect([...map.keys()]).toEqual(["y", "z", "w"]);
  });
});

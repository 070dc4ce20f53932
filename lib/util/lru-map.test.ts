import { describe, expect, it } from "vitest";
import { LruMap } from "./lru-map";

describe("LruMap", () => {
  it("never holds more than maxSize keys, evicting the least recently set", () => {
    const map = new LruMap<string, number>(3);
    for (let i = 0; i < 1000; i++) map.set(`k${i}`, i);
    expect(map.size).toBe(3);
    expect([...map.keys()]).toEqual(["k997", "k998", "k999"]);
  });

  it("moves a re-set key to the back, so it outlives older ones", () => {
    const map = new LruMap<string, number>(2);
    map.set("a", 1).set("b", 2).set("a", 3).set("c", 4);
    expect([...map.entries()]).toEqual([
      ["a", 3],
      ["c", 4],
    ]);
  });

  it("is a Map (what @upstash/ratelimit checks for its ephemeral cache) and refuses a useless bound", () => {
    expect(new LruMap(1)).toBeInstanceOf(Map);
    expect(() => new LruMap(0)).toThrow(RangeError);
  });
});

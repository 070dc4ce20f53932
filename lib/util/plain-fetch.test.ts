import { afterEach, describe, expect, it } from "vitest";
import { plainFetch } from "./plain-fetch";

const original = globalThis.fetch;

describe("plainFetch", () => {
  afterEach(() => {
    globalThis.fetch = original;
  });

  it("calls the function Next wrapped, not Next's wrapper", async () => {
    const calls: string[] = [];
    const inner = (async () => {
      calls.push("inner");
      return new Response("ok");
    }) as typeof fetch;
    const wrapper = Object.assign(
      (async () => {
        calls.push("wrapper");
        return new Response("wrapped");
      }) as typeof fetch,
      { _nextOriginalFetch: inner },
    );
    globalThis.fetch = wrapper;
    expect(await (await plainFetch("http://example.test/")).text()).toBe("ok");
    expect(calls).toEqual(["inner"]);
  });

  it("is the global fetch when nothing wrapped it", async () => {
    const calls: string[] = [];
    globalThis.fetch = async () => {
      calls.push("global");
      return new Response("plain");
    };
    expect(await (await plainFetch("http://example.test/", { method: "POST", body: "x" })).text()).toBe("plain");
    expect(calls).toEqual(["global"]);
  });
});

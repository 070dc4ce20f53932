import { describe, expect, it } from "vitest";
import { afterResponse, afterResponseIdle, afterResponsePending } from "./after-response";

function deferred(): { promise: Promise<void>; resolve: () => void; reject: (error: Error) => void } {
  let resolve!: () => void;
  let reject!: (error: Error) => void;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

describe("afterResponse (outside a request scope)", () => {
  it("tracks the work until it settles; idle waits for all of it", async () => {
    const first = deferred();
    const second = deferred();
    afterResponse(first.promise);
    afterResponse(second.promise);
    expect(afterResponsePending()).toBe(2);

    let idle = false;
    const waiting = afterResponseIdle().then(() => (idle = true));
    first.resolve();
    await first.promise;
    await new Promise((resolve) => setImmediate(resolve));
    expect(idle).toBe(false);
    expect(afterResponsePending()).toBe(1);

    second.resolve();
    await waiting;
    expect(idle).toBe(true);
    expect(afterResponsePending()).toBe(0);
  });

  it("waits for work started while it waits", async () => {
    const first = deferred();
    const later = deferred();
    afterResponse(first.promise.then(() => afterResponse(later.promise)));
    let idle = false;
    const waiting = afterResponseIdle().then(() => (idle = true));
    first.resolve();
    await new Promise((resolve) => setImmediate(resolve));
    expect(idle).toBe(false);
    later.resolve();
    await waiting;
    expect(afterResponsePending()).toBe(0);
  });

  it("a rejection is swallowed: no unhandled rejection, and idle still resolves", async () => {
    const work = deferred();
    afterResponse(work.promise);
    work.reject(new Error("settlement failed"));
    await afterResponseIdle();
    expect(afterResponsePending()).toBe(0);
  });
});

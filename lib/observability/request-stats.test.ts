/**
 * A request's round-trip counters see every store, whichever copy of this module made it: the
 * production build holds one copy per bundle (each route, instrumentation), the stores are
 * process-wide singletons made by whichever bundle came first.
 */
import { describe, expect, it, vi } from "vitest";

type Stats = typeof import("./request-stats");

/** A fresh copy of the module, as another bundle of the production build would hold it. */
async function freshCopy(): Promise<Stats> {
  vi.resetModules();
  return import("./request-stats");
}

describe("request stats across module copies", () => {
  it("counts round trips made through another copy of the module into the current request", async () => {
    const route = await freshCopy();
    const store = await freshCopy();
    expect(store).not.toBe(route);
    const { stats, result } = route.runWithRequestStats(async () => {
      store.countKvRoundTrip();
      await new Promise((resolve) => setTimeout(resolve, 1));
      store.countKvRoundTrip(2);
      store.countDbRoundTrip();
      return "done";
    });
    expect(await result).toBe("done");
    expect(stats).toEqual({ kvRoundTrips: 3, dbRoundTrips: 1 });
  });

  it("keeps concurrent requests apart, and counts nothing outside a request", async () => {
    const route = await freshCopy();
    const store = await freshCopy();
    const a = route.runWithRequestStats(async () => {
      await new Promise((resolve) => setTimeout(resolve, 5));
      store.countDbRoundTrip(4);
    });
    const b = route.runWithRequestStats(async () => {
      store.countKvRoundTrip();
      store.outsideRequest(() => store.countKvRoundTrip(10));
    });
    store.countKvRoundTrip(100);
    await Promise.all([a.result, b.result]);
    expect(a.stats).toEqual({ kvRoundTrips: 0, dbRoundTrips: 4 });
    expect(b.stats).toEqual({ kvRoundTrips: 1, dbRoundTrips: 0 });
  });
});

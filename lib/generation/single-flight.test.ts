import { describe, expect, it } from "vitest";
import { HOOKS } from "@/lib/ai/types";
import { flightOf, leadFlight } from "./single-flight";
import type { CaptionOutcome } from "./types";

const outcome: CaptionOutcome = { variants: [{ caption: "hello", hashtags: ["#hi"], hook: HOOKS[0], checks: [] }], provider: "openai", model: "gpt-4o-mini" };

describe("single flight", () => {
  it("followers get the leader's outcome; the flight ends when it lands", async () => {
    const flight = leadFlight("k1");
    const follower = flightOf("k1");
    expect(follower).toBeDefined();
    flight.land(outcome);
    await expect(follower).resolves.toEqual(outcome);
    expect(flightOf("k1")).toBeUndefined();
  });

  it("with a settlement still landing, the flight answers until it has landed", async () => {
    let landed!: () => void;
    const settling = new Promise<void>((resolve) => (landed = resolve));
    const flight = leadFlight("k2");
    flight.land(outcome, settling);
    // An identical request now is served the outcome instead of missing the cache.
    await expect(flightOf("k2")).resolves.toEqual(outcome);
    landed();
    await settling;
    await new Promise((resolve) => setImmediate(resolve));
    expect(flightOf("k2")).toBeUndefined();
  });

  it("a settlement that fails ends the flight too", async () => {
    let failed!: (error: Error) => void;
    const settling = new Promise<void>((_, reject) => (failed = reject));
    leadFlight("k3").land(outcome, settling);
    failed(new Error("redis away"));
    await settling.catch(() => {});
    await new Promise((resolve) => setImmediate(resolve));
    expect(flightOf("k3")).toBeUndefined();
  });

  it("a second leader for a key in flight gets no flight of its own, and cannot end the first", async () => {
    const first = leadFlight("k4");
    const second = leadFlight("k4");
    second.land(null);
    expect(flightOf("k4")).toBeDefined();
    first.land(null);
    expect(flightOf("k4")).toBeUndefined();
  });
});

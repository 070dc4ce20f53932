/** The soak's verdict: flat means nothing after the baseline rises more than 10 % above it. */
import { describe, expect, it } from "vitest";
import { baselineAt, judge } from "./flat";

/** A reading every 5 s for `durationS`, from `rss(t)`. */
const curve = (durationS: number, rss: (t: number) => number) =>
  Array.from({ length: durationS / 5 + 1 }, (_, i) => ({ t: i * 5, rssMiB: rss(i * 5) }));

describe("soak verdict", () => {
  it("reads the baseline after the first minute, or the first quarter of a run under 4 minutes", () => {
    expect(baselineAt(600)).toBe(60);
    expect(baselineAt(240)).toBe(60);
    expect(baselineAt(60)).toBe(15);
    expect(judge(curve(600, (t) => 100 + t), 600).baselineMiB).toBe(160);
    expect(judge(curve(60, (t) => 100 + t), 60).baselineMiB).toBe(115);
  });

  it("passes up to 10 % above the baseline, and ignores the climb before it", () => {
    // Start-up growth from 100 to 300 MiB in the first minute, then +10 % by the end.
    const verdict = judge(curve(600, (t) => (t < 60 ? 100 + (t * 200) / 60 : 300 + ((t - 60) * 30) / 540)), 600);
    expect(verdict).toMatchObject({ baselineAtS: 60, baselineMiB: 300, finalMiB: 330, finalGrowth: 0.1, pass: true });
  });

  it("fails a steady climb past 10 %", () => {
    const verdict = judge(curve(600, (t) => 300 + t * 0.06), 600);
    expect(verdict.finalMiB).toBe(336);
    expect(verdict.finalGrowth).toBeCloseTo(0.1, 1);
    expect(verdict.finalGrowth).toBeGreaterThan(0.1);
    expect(verdict.pass).toBe(false);
  });

  it("fails a peak past 10 % even when the end comes back down, and passes a fall", () => {
    const spike = judge(curve(600, (t) => (t === 300 ? 340 : 300)), 600);
    expect(spike).toMatchObject({ maxAfterBaselineMiB: 340, finalGrowth: 0, pass: false });
    expect(judge(curve(600, (t) => (t <= 60 ? 300 : 200)), 600)).toMatchObject({ finalGrowth: -0.333, pass: true });
  });
});

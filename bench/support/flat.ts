/** The soak's verdict on a memory curve (npm run soak, issue 12 §3). */
import type { RssSample } from "./rss";
import { round } from "./stats";

/** How far above the baseline the curve may rise and still count as flat. */
export const TOLERANCE = 0.1;

export interface SoakVerdict {
  baselineAtS: number;
  baselineMiB: number;
  maxAfterBaselineMiB: number;
  finalMiB: number;
  /** Highest reading after the baseline, and the final one, as a fraction above the baseline. */
  maxGrowth: number;
  finalGrowth: number;
  pass: boolean;
}

/** When the baseline is read: after the first minute, or the first quarter of a run under 4 minutes. */
export function baselineAt(durationS: number): number {
  return durationS >= 240 ? 60 : durationS / 4;
}

/** The verdict on a curve: flat when nothing after the baseline reading rises over 10 % above it. */
export function judge(samples: readonly RssSample[], durationS: number, tolerance = TOLERANCE): SoakVerdict {
  const at = baselineAt(durationS);
  const baseline = samples.find((s) => s.t >= at) ?? samples.at(-1);
  const final = samples.at(-1);
  if (!baseline || !final) throw new Error("no memory samples");
  const after = samples.filter((s) => s.t >= baseline.t);
  const maxAfter = Math.max(...after.map((s) => s.rssMiB));
  const maxGrowth = maxAfter / baseline.rssMiB - 1;
  const finalGrowth = final.rssMiB / baseline.rssMiB - 1;
  return {
    baselineAtS: baseline.t,
    baselineMiB: baseline.rssMiB,
    maxAfterBaselineMiB: maxAfter,
    finalMiB: final.rssMiB,
    maxGrowth: round(maxGrowth, 3),
    finalGrowth: round(finalGrowth, 3),
    // 1e-9: 330 / 300 - 1 is 0.10000000000000009 in floating point, and exactly 10 % is within.
    pass: maxGrowth <= tolerance + 1e-9 && finalGrowth <= tolerance + 1e-9,
  };
}


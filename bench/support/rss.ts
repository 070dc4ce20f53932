/** Resident memory of server processes, read from /proc while the load runs. */
import { readFileSync } from "node:fs";

/** VmRSS of a process in MiB (one decimal), or NaN once it has gone. */
export function rssMiB(pid: number): number {
  try {
    const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return match ? Math.round((Number(match[1]) / 1024) * 10) / 10 : Number.NaN;
  } catch {
    return Number.NaN;
  }
}

export interface RssSample {
  /** Seconds since the sampler started. */
  t: number;
  rssMiB: number;
}

export interface PhaseMemory {
  startMiB: number;
  peakMiB: number;
  endMiB: number;
}

/**
 * Samples one process every `intervalMs`. `phase(name)` starts labelling samples with a phase;
 * `phases()` gives each phase's first, highest and last reading (a phase that ran in several
 * rounds: the first round's start, the highest of all, the last round's end).
 */
export function startRssSampler(pid: number, intervalMs: number) {
  const started = Date.now();
  const samples: (RssSample & { phase: string | null })[] = [];
  let current: string | null = null;
  const take = () => samples.push({ t: (Date.now() - started) / 1000, rssMiB: rssMiB(pid), phase: current });
  const timer = setInterval(take, intervalMs);
  take();
  return {
    samples,
    phase(name: string | null): void {
      take();
      current = name;
      if (name !== null) take();
    },
    phases(): Record<string, PhaseMemory> {
      const out: Record<string, PhaseMemory> = {};
      for (const s of samples) {
        if (s.phase === null || Number.isNaN(s.rssMiB)) continue;
        const seen = out[s.phase];
        if (!seen) out[s.phase] = { startMiB: s.rssMiB, peakMiB: s.rssMiB, endMiB: s.rssMiB };
        else {
          seen.peakMiB = Math.max(seen.peakMiB, s.rssMiB);
          seen.endMiB = s.rssMiB;
        }
      }
      return out;
    },
    /** The last reading taken. */
    latest(): number {
      return samples.at(-1)?.rssMiB ?? Number.NaN;
    },
    stop(): void {
      take();
      clearInterval(timer);
    },
  };
}

export type RssSampler = ReturnType<typeof startRssSampler>;

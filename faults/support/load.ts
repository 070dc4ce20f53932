/** A small, steady load: a few workers, each sending one request at a time with a pause between. */
import type { Answer } from "./http";
import { sleep } from "./processes";

export interface Action {
  /** What the request is (e.g. "guest", "user", "event"): the assertions group answers by it. */
  kind: string;
  send(): Promise<Answer>;
}

export type Sample = Answer & { kind: string };

export interface Load {
  samples: Sample[];
  /** Stops sending; resolves once every request in flight has its answer. */
  stop(): Promise<Sample[]>;
}

export function startLoad(options: { workers: number; pauseMs: number; next: (worker: number, n: number) => Action }): Load {
  const samples: Sample[] = [];
  let stopped = false;
  const workers = Array.from({ length: options.workers }, async (_, worker) => {
    for (let n = 0; !stopped; n++) {
      const action = options.next(worker, n);
      samples.push({ kind: action.kind, ...(await action.send()) });
      await sleep(options.pauseMs);
    }
  });
  return {
    samples,
    async stop() {
      stopped = true;
      await Promise.all(workers);
      return samples;
    },
  };
}

/** "kind outcome" → count, for messages and figures. */
export function tally(samples: readonly Sample[], label: (sample: Sample) => string): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const sample of samples) {
    const key = `${sample.kind} ${label(sample)}`;
    counts[key] = (counts[key] ?? 0) + 1;
  }
  return counts;
}

/** Small statistics for the benchmark: rounds summarized as a median with its range. */

export interface Spread {
  median: number;
  min: number;
  max: number;
  /** Every round's value, in the order the rounds ran. */
  rounds: number[];
}

/** The value below which a fraction `q` (0–1) of the samples fall (nearest rank). */
export function percentile(values: readonly number[], q: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.ceil(q * sorted.length) - 1;
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank))]!;
}

/** The median of an even count is the mean of the two middle values. */
export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

export function round(value: number, digits: number): number {
  const scale = 10 ** digits;
  return Math.round(value * scale) / scale;
}

export function spread(rounds: readonly number[], digits = 2): Spread {
  return {
    median: round(median(rounds), digits),
    min: round(Math.min(...rounds), digits),
    max: round(Math.max(...rounds), digits),
    rounds: rounds.map((value) => round(value, digits)),
  };
}

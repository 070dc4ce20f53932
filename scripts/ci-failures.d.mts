/** Types of scripts/ci-failures.mjs (a plain Node script, run by scripts/test-ci.sh). */
export interface Failure {
  test: string;
  error: string;
}
export function firstLine(text: unknown): string;
export function failuresIn(report: unknown): Failure[];
export function failureLines(files: readonly string[]): string[];

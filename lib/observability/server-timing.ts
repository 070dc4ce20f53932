/** Collects per-request durations by phase and renders the `Server-Timing` header. */
export class ServerTiming {
  private readonly started = performance.now();
  private readonly durations = new Map<string, number>();

  add(name: string, ms: number): void {
    this.durations.set(name, (this.durations.get(name) ?? 0) + ms);
  }

  async measure<T>(name: string, work: () => Promise<T>): Promise<T> {
    const start = performance.now();
    try {
      return await work();
    } finally {
      this.add(name, performance.now() - start);
    }
  }

  elapsedMs(): number {
    return performance.now() - this.started;
  }

  header(): string {
    const parts = [...this.durations].map(([name, ms]) => `${name};dur=${ms.toFixed(1)}`);
    parts.push(`total;dur=${this.elapsedMs().toFixed(1)}`);
    return parts.join(", ");
  }
}

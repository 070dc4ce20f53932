import "server-only";
import { getDb } from "@/lib/db";
import { logFor } from "@/lib/observability/logger";
import { createRecordWriter, type RecordWriter } from "./writer";

export type {
  FunnelEventInput,
  GenerationRecord,
  GenerationStatus,
  RecordWriter,
  RecordWriterStats,
  SecurityEventInput,
  Severity,
} from "./writer";
export { createRecordWriter } from "./writer";

/** How long a shutdown waits for the last flush before letting the process go. */
const EXIT_FLUSH_TIMEOUT_MS = 3_000;

const globalForWriter = globalThis as unknown as {
  __litstatusWriter?: RecordWriter;
  __litstatusWriterExitHooks?: boolean;
};

function flushWithin(writer: RecordWriter, ms: number): Promise<void> {
  return new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, ms);
    timer.unref?.();
    void writer.flush().finally(() => {
      clearTimeout(timer);
      resolve();
    });
  });
}

/** Best effort: write what is buffered when the process ends normally or is asked to stop. */
function registerExitHooks(): void {
  if (globalForWriter.__litstatusWriterExitHooks) return;
  globalForWriter.__litstatusWriterExitHooks = true;

  // beforeExit fires again after async work; one attempt per buffered set keeps an outage from looping.
  let exitAttemptFailed = false;
  process.on("beforeExit", () => {
    const writer = globalForWriter.__litstatusWriter;
    if (!writer || exitAttemptFailed || writer.stats().buffered === 0) return;
    void flushWithin(writer, EXIT_FLUSH_TIMEOUT_MS).then(() => {
      if (writer.stats().buffered > 0) exitAttemptFailed = true;
    });
  });

  const onSigterm = () => {
    const writer = globalForWriter.__litstatusWriter;
    // Others (Next's server) may exit on SIGTERM too; if we are the only listener, exiting is ours
    // to do, as Node's default would have.
    const alone = process.listenerCount("SIGTERM") === 1;
    const done = writer && writer.stats().buffered > 0 ? flushWithin(writer, EXIT_FLUSH_TIMEOUT_MS) : Promise.resolve();
    void done.then(() => {
      if (writer && writer.stats().buffered > 0) {
        logFor("events").warn({ ...writer.stats() }, "event writer: shutting down with records not written");
      }
      if (alone) process.exit(143);
    });
  };
  process.on("SIGTERM", onSigterm);
}

/** The process-wide writer for security events, funnel events and generation records. */
export function getRecordWriter(): RecordWriter {
  if (!globalForWriter.__litstatusWriter) {
    globalForWriter.__litstatusWriter = createRecordWriter({ getDb });
    registerExitHooks();
  }
  return globalForWriter.__litstatusWriter;
}

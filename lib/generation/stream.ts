import "server-only";
import { errorEnvelope, toAppError } from "@/lib/errors";
import type { Logger } from "@/lib/observability/logger";
import type { GenerateResponse, GenerateStream } from "./types";

/**
 * POST /api/generate with `Accept: text/event-stream` (PRODUCT §3a): the same generation, its
 * progress sent as server-sent events — `delta` (caption text as the model writes it),
 * `variant` (each finished variant), then `done` (the JSON 200 body) or `error` (the envelope,
 * with its status and Retry-After in seconds).
 *
 * The answer's status is decided as late as it can be: a request refused before the model
 * starts writing (quota, rate, busy, breaker, validation) gets the plain JSON error with its
 * real status; a cache hit is `done` at once. Once text has gone out, a failure can only be an
 * `error` event. The generation never depends on the reader: a client that goes away stops the
 * writes, not the work, so the slot, the quota and the record settle exactly as on the JSON path.
 */

export const SSE_HEADERS: Record<string, string> = {
  "content-type": "text/event-stream; charset=utf-8",
  "cache-control": "no-store, no-transform",
  // Proxies (nginx) must pass each event on at once rather than buffer the answer.
  "x-accel-buffering": "no",
};

const encoder = new TextEncoder();
const frame = (event: string, data: unknown) => encoder.encode(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);

type First = { kind: "started" } | { kind: "done"; response: GenerateResponse } | { kind: "failed"; error: unknown };

export async function streamGeneration(
  run: (stream: GenerateStream) => Promise<GenerateResponse>,
  meta: { requestId: string; log: Logger },
): Promise<Response> {
  let controller: ReadableStreamDefaultController<Uint8Array> | null = null;
  let closed = false;
  const early: Uint8Array[] = [];
  const send = (event: string, data: unknown) => {
    if (closed) return;
    const bytes = frame(event, data);
    if (!controller) {
      early.push(bytes);
      return;
    }
    try {
      controller.enqueue(bytes);
    } catch {
      closed = true; // the reader is gone
    }
  };
  const end = () => {
    if (closed) return;
    closed = true;
    try {
      controller?.close();
    } catch {
      // already closed by a cancel
    }
  };

  let markStarted: () => void = () => {};
  const started = new Promise<First>((resolve) => (markStarted = () => resolve({ kind: "started" })));
  const work = run({
    delta(delta) {
      send("delta", delta);
      markStarted();
    },
    variant(index, variant) {
      send("variant", { index, variant });
    },
  });
  const settled: Promise<First> = work.then(
    (response) => ({ kind: "done", response }),
    (error: unknown) => ({ kind: "failed", error }),
  );

  const first = await Promise.race([settled, started]);
  // Refused before any text: the plain JSON error with its real status (the route wrapper answers it).
  if (first.kind === "failed") throw first.error;

  const body = new ReadableStream<Uint8Array>({
    start(c) {
      controller = c;
      for (const bytes of early.splice(0)) c.enqueue(bytes);
      void settled.then((outcome) => {
        if (outcome.kind === "done") {
          send("done", outcome.response);
        } else if (outcome.kind === "failed") {
          const error = toAppError(outcome.error);
          if (error.status >= 500) meta.log.error({ err: outcome.error, code: error.code }, "streamed generation failed");
          send("error", {
            ...errorEnvelope(error, meta.requestId),
            status: error.status,
            ...(error.retryAfterSeconds !== undefined ? { retryAfterSeconds: Math.max(1, Math.ceil(error.retryAfterSeconds)) } : {}),
          });
        }
        end();
      });
    },
    cancel() {
      closed = true;
    },
  });
  return new Response(body, { status: 200, headers: SSE_HEADERS });
}

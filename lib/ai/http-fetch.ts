/**
 * A fetch for the OpenAI SDK built on `node:http`/`node:https` with keep-alive agents.
 *
 * Why: a model call is two requests (the completion, and moderation alongside it), and the
 * runtime's fetch spent about 1.5 ms of CPU per request more than `node:http` on this hardware
 * (docs/PERFORMANCE.md, change 12), on the request path of every cache miss.
 *
 * What it keeps of fetch's contract, as the SDK uses it:
 * - the Response: status, status text, headers, and the body as a web stream read as it arrives
 *   (streamed completions), with backpressure;
 * - cancellation: an aborted signal rejects the pending call, or errors the body being read,
 *   with the signal's reason (an `AbortError` from the SDK's own controller), and closes the
 *   connection;
 * - failures: a connection that cannot be made, or breaks before the answer, rejects with
 *   `TypeError("fetch failed", { cause })` as the runtime's fetch does, so the SDK reports a
 *   connection error; one cut off mid-body errors the body;
 * - a gzip, deflate or br encoded answer is decoded (none is asked for: no Accept-Encoding);
 * - 204, 205 and 304 answers and HEAD requests have no body.
 * What it does not do: follow redirects (the API does not send them: a 3xx is handed to the
 * SDK, which reports it as an API error), or send a body other than a string or bytes; a call
 * with any other body, or with a Request object, goes to the runtime's fetch unchanged.
 *
 * Idle connections are closed after IDLE_SOCKET_MS, or a second before the server's own
 * `Keep-Alive: timeout`, whichever is sooner, so a request rarely meets a connection the server
 * has just closed; when one does, the call fails as a connection error (never resent here: the
 * engine owns the single retry).
 */
import http from "node:http";
import https from "node:https";
import type { Readable } from "node:stream";
import zlib from "node:zlib";
import { plainFetch } from "@/lib/util/plain-fetch";

/** How long an idle kept-alive connection may wait for the next request. */
export const IDLE_SOCKET_MS = 4_000;

const agentOptions = { keepAlive: true, timeout: IDLE_SOCKET_MS, scheduling: "lifo" as const };
/** Per protocol, the module that makes the request and its kept-alive connections. */
const TRANSPORTS: Record<string, { request: typeof http.request; agent: http.Agent }> = {
  "http:": { request: http.request, agent: new http.Agent(agentOptions) },
  "https:": { request: https.request, agent: new https.Agent(agentOptions) },
};

const NULL_BODY_STATUSES = new Set([101, 204, 205, 304]);

/** What an aborted call fails with: the signal's reason when it is an error (as fetch does), else an AbortError. */
function abortReason(signal: AbortSignal): Error {
  const reason: unknown = signal.reason;
  return reason instanceof Error ? reason : new DOMException("This operation was aborted", "AbortError");
}

/** The body to send (undefined: none), or null for one only the runtime's fetch can send. */
function requestBody(body: RequestInit["body"]): string | Uint8Array | undefined | null {
  if (body === undefined || body === null) return undefined;
  if (typeof body === "string" || body instanceof Uint8Array) return body;
  if (body instanceof ArrayBuffer) return new Uint8Array(body);
  return null; // anything else: not ours to send
}

/** The decoded body stream, per Content-Encoding (one coding, as servers send). */
function decoded(res: http.IncomingMessage): Readable {
  const coding = (res.headers["content-encoding"] ?? "").trim().toLowerCase();
  const decoder =
    coding === "gzip" || coding === "x-gzip"
      ? zlib.createGunzip()
      : coding === "deflate"
        ? zlib.createInflate()
        : coding === "br"
          ? zlib.createBrotliDecompress()
          : null;
  if (!decoder) return res;
  res.on("error", (error) => decoder.destroy(error));
  return res.pipe(decoder);
}

/**
 * A web ReadableStream over the (decoded) response: pulls as the reader reads, and errors as the
 * source does: with the signal's reason once it aborted, else as a `TypeError("terminated")`.
 */
function webBody(source: Readable, res: http.IncomingMessage, signal: AbortSignal | undefined, onSettled: () => void): ReadableStream<Uint8Array> {
  let ended = false;
  return new ReadableStream<Uint8Array>({
    start(controller) {
      source.on("data", (chunk: Buffer) => {
        if (ended) return;
        controller.enqueue(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength));
        if ((controller.desiredSize ?? 1) <= 0) source.pause();
      });
      source.once("end", () => {
        if (ended) return;
        ended = true;
        onSettled();
        controller.close();
      });
      const fail = (error: unknown) => {
        if (ended) return;
        ended = true;
        onSettled();
        controller.error(signal?.aborted ? abortReason(signal) : new TypeError("terminated", { cause: error }));
      };
      source.once("error", fail);
      // The connection closed before the whole body came.
      res.once("close", () => {
        if (!res.complete) fail(new Error("the connection closed before the response ended"));
      });
    },
    pull() {
      source.resume();
    },
    cancel() {
      ended = true;
      onSettled();
      res.destroy();
      if (source !== res) source.destroy();
    },
  });
}

export function nodeHttpFetch(input: string | URL | Request, init: RequestInit = {}): Promise<Response> {
  const body = requestBody(init.body);
  if (input instanceof Request || body === null) return plainFetch(input, init);
  const url = new URL(input);
  const transport = Object.hasOwn(TRANSPORTS, url.protocol) ? TRANSPORTS[url.protocol] : undefined;
  if (!transport) return plainFetch(input, init);
  const signal = init.signal ?? undefined;
  if (signal?.aborted) return Promise.reject(abortReason(signal));

  const method = (init.method ?? "GET").toUpperCase();
  const headers: Record<string, string> = {};
  new Headers(init.headers).forEach((value, key) => {
    headers[key] = value;
  });
  if (body !== undefined) headers["content-length"] = String(typeof body === "string" ? Buffer.byteLength(body) : body.byteLength);

  return new Promise<Response>((resolve, reject) => {
    let answered = false;
    // Until the answer comes, an abort rejects the call; after it, it errors the body.
    const onRequestAbort = () => {
      req.destroy();
      reject(abortReason(signal!));
    };
    signal?.addEventListener("abort", onRequestAbort, { once: true });
    const req = transport.request(url, { method, headers, agent: transport.agent }, (res) => {
      answered = true;
      signal?.removeEventListener("abort", onRequestAbort);
      const responseHeaders = new Headers();
      const raw = res.rawHeaders;
      for (let i = 0; i + 1 < raw.length; i += 2) responseHeaders.append(raw[i]!, raw[i + 1]!);
      const status = res.statusCode ?? 0;
      if (status < 200 || status > 599) {
        res.destroy();
        reject(new TypeError("fetch failed", { cause: new Error(`unexpected HTTP status ${status}`) }));
        return;
      }
      let stream: ReadableStream<Uint8Array> | null = null;
      if (method === "HEAD" || NULL_BODY_STATUSES.has(status)) {
        res.resume();
      } else {
        const source = decoded(res);
        const onBodyAbort = () => {
          source.destroy(abortReason(signal!));
          res.destroy();
        };
        signal?.addEventListener("abort", onBodyAbort, { once: true });
        stream = webBody(source, res, signal, () => signal?.removeEventListener("abort", onBodyAbort));
      }
      resolve(new Response(stream, { status, statusText: res.statusMessage ?? "", headers: responseHeaders }));
    });
    req.on("error", (error) => {
      if (answered || signal?.aborted) return; // the body's own error path, or the abort, reported it
      signal?.removeEventListener("abort", onRequestAbort);
      reject(new TypeError("fetch failed", { cause: error }));
    });
    req.end(body);
  });
}

/**
 * The browser's POST /api/generate: asks for server-sent events and reports the caption text as
 * the model writes it; a JSON answer (a failure before the model started, a server without
 * streaming) is handled like any other API call. Every failure becomes the envelope's code.
 * EventSource cannot POST, hence fetch + a ReadableStream reader + TextDecoder.
 */
import { MAX_KEYWORD_CHARS, MAX_KEYWORDS, type CaptionVariant, type EmojiLevel, type Lang, type Length, type Mode, type Platform, type ProviderName } from "@/lib/ai/types";
import { readJsonResult, type ApiResult } from "./api-client";

/** The quota as every response shows it (`remaining` includes admin-granted credits). */
export interface QuotaView {
  plan: "guest" | "free" | "pro";
  limit: number;
  used: number;
  remaining: number;
  credits: number;
  resetAt: string;
}

/** The JSON 200 of POST /api/generate, and the data of the stream's `done` event. */
export interface GenerateResponse {
  id: string;
  caption: string;
  hashtags: string[];
  variants: CaptionVariant[];
  detectedObject?: string;
  mode: Mode;
  lang: Lang;
  platform: string | null;
  cached: boolean;
  provider: ProviderName;
  model: string;
  quota: QuotaView;
}

export interface GenerateRequest {
  text: string;
  mode: Mode;
  lang: Lang;
  platform?: Platform;
  regenerate?: boolean;
  variants: number;
  emoji: EmojiLevel;
  /** Absent: the platform's default. */
  length?: Length;
  cta: boolean;
  keywords: string[];
  image?: File;
}

export type KeywordProblem = "tooMany" | "tooLong" | null;

/**
 * The keywords the user typed, split on commas (Latin or Chinese) and deduplicated
 * case-insensitively, with the first rule they break (the server's limits, checked before sending).
 */
export function parseKeywords(input: string): { keywords: string[]; problem: KeywordProblem } {
  const seen = new Set<string>();
  const keywords: string[] = [];
  for (const raw of input.split(/[,，、]/)) {
    const keyword = raw.trim();
    if (!keyword || seen.has(keyword.toLowerCase())) continue;
    seen.add(keyword.toLowerCase());
    keywords.push(keyword);
  }
  const problem: KeywordProblem =
    keywords.length > MAX_KEYWORDS ? "tooMany" : keywords.some((k) => [...k].length > MAX_KEYWORD_CHARS) ? "tooLong" : null;
  return { keywords, problem };
}

export interface StreamHandlers {
  /** More caption text for variant `index`, as written (append it). */
  onDelta?: (index: number, text: string) => void;
  /** Variant `index` is finished: replace its text with this. */
  onVariant?: (index: number, variant: CaptionVariant) => void;
}

/** One parsed server-sent event. */
export interface SseEvent {
  event: string;
  data: string;
}

/**
 * Splits a growing text stream into events (blank-line separated blocks of `field: value` lines,
 * per the HTML standard's event-stream format): `push` returns the complete events so far and
 * keeps the unfinished tail for the next chunk.
 */
export class SseParser {
  private buffer = "";

  push(chunk: string): SseEvent[] {
    this.buffer += chunk;
    const events: SseEvent[] = [];
    for (;;) {
      const match = /\r\n\r\n|\n\n|\r\r/.exec(this.buffer);
      if (!match) break;
      const block = this.buffer.slice(0, match.index);
      this.buffer = this.buffer.slice(match.index + match[0].length);
      const parsed = parseBlock(block);
      if (parsed) events.push(parsed);
    }
    return events;
  }
}

function parseBlock(block: string): SseEvent | null {
  let event = "message";
  const data: string[] = [];
  for (const line of block.split(/\r\n|\n|\r/)) {
    if (line === "" || line.startsWith(":")) continue; // comments keep the connection alive
    const colon = line.indexOf(":");
    const field = colon === -1 ? line : line.slice(0, colon);
    const value = colon === -1 ? "" : line.slice(colon + 1).replace(/^ /, "");
    if (field === "event") event = value;
    else if (field === "data") data.push(value);
  }
  return data.length > 0 ? { event, data: data.join("\n") } : null;
}

function jsonBody(req: GenerateRequest): string {
  return JSON.stringify({
    text: req.text,
    mode: req.mode,
    lang: req.lang,
    ...(req.platform ? { platform: req.platform } : {}),
    ...(req.regenerate ? { regenerate: true } : {}),
    variants: req.variants,
    emoji: req.emoji,
    ...(req.length ? { length: req.length } : {}),
    cta: req.cta,
    ...(req.keywords.length > 0 ? { keywords: req.keywords } : {}),
  });
}

/** Multipart carries the same fields as strings: keywords comma-separated, booleans "true"/"false". */
function formBody(req: GenerateRequest, image: File): FormData {
  const form = new FormData();
  form.set("text", req.text);
  form.set("mode", req.mode);
  form.set("lang", req.lang);
  if (req.platform) form.set("platform", req.platform);
  form.set("regenerate", String(Boolean(req.regenerate)));
  form.set("variants", String(req.variants));
  form.set("emoji", req.emoji);
  if (req.length) form.set("length", req.length);
  form.set("cta", String(req.cta));
  if (req.keywords.length > 0) form.set("keywords", req.keywords.join(","));
  form.set("image", image);
  return form;
}

interface StreamError {
  error?: { code?: string; message?: string };
  status?: number;
  retryAfterSeconds?: number;
}

function streamFailure(data: string): ApiResult<GenerateResponse> {
  let parsed: StreamError = {};
  try {
    parsed = JSON.parse(data) as StreamError;
  } catch {
    // a garbled error event is still an error
  }
  const status = parsed.status ?? 500;
  return {
    ok: false,
    status,
    code: parsed.error?.code ?? "internal",
    message: parsed.error?.message ?? "",
    ...(parsed.retryAfterSeconds && parsed.retryAfterSeconds > 0 ? { retryAfterSeconds: parsed.retryAfterSeconds } : {}),
  };
}

/**
 * The server ends the stream right after `done` or `error`: read that end in the background
 * rather than cancel, which the browser would count as an aborted request.
 */
function drain(reader: ReadableStreamDefaultReader<Uint8Array>): void {
  void (async () => {
    while (!(await reader.read()).done) {
      // nothing more is expected
    }
  })().catch(() => {});
}

/** Reads the event stream to its `done` (the result) or `error`; a stream cut short is a network failure. */
async function readStream(body: ReadableStream<Uint8Array>, handlers: StreamHandlers): Promise<ApiResult<GenerateResponse>> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  const parser = new SseParser();
  try {
    for (;;) {
      const { value, done } = await reader.read();
      const events = parser.push(done ? decoder.decode() + "\n\n" : decoder.decode(value, { stream: true }));
      for (const { event, data } of events) {
        if (event === "delta") {
          const delta = JSON.parse(data) as { variant: number; text: string };
          handlers.onDelta?.(delta.variant, delta.text);
        } else if (event === "variant") {
          const finished = JSON.parse(data) as { index: number; variant: CaptionVariant };
          handlers.onVariant?.(finished.index, finished.variant);
        } else if (event === "done") {
          drain(reader);
          return { ok: true, data: JSON.parse(data) as GenerateResponse };
        } else if (event === "error") {
          drain(reader);
          return streamFailure(data);
        }
      }
      if (done) break;
    }
  } catch {
    // the connection dropped, or an event was not JSON
  }
  return { ok: false, status: 0, code: "network", message: "" };
}

export async function generateCaptions(
  req: GenerateRequest,
  headers: Record<string, string>,
  handlers: StreamHandlers = {},
): Promise<ApiResult<GenerateResponse>> {
  const init: RequestInit = req.image
    ? { method: "POST", headers: { ...headers, accept: "text/event-stream" }, body: formBody(req, req.image) }
    : { method: "POST", headers: { ...headers, accept: "text/event-stream", "content-type": "application/json" }, body: jsonBody(req) };
  let res: Response;
  try {
    res = await fetch("/api/generate", { ...init, credentials: "same-origin" });
  } catch {
    return { ok: false, status: 0, code: "network", message: "" };
  }
  if (res.body && /^text\/event-stream\b/i.test(res.headers.get("content-type") ?? "")) {
    return readStream(res.body, handlers);
  }
  return readJsonResult<GenerateResponse>(res);
}


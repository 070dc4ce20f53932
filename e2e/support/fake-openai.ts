/**
 * A local fake of the OpenAI HTTP API, with fault injection, for integration tests, the
 * Playwright suite and the benchmark. It speaks the subset the app uses, in the shapes the
 * official `openai` SDK (6.x) expects:
 *
 *   POST /v1/chat/completions  -> chat.completion (or an SSE stream when `stream: true`)
 *   POST /v1/moderations       -> { id, model, results: [...] }
 *   GET  /v1/models            -> { object: "list", data: [...] }
 *   anything else              -> 404 {"error": {...}}
 *
 * Chat completions need `Authorization: Bearer <anything>`; with `response_format` of type
 * `json_schema` or `json_object` the content is the captions JSON
 * `{"variants": [{"hook", "caption", "hashtags", "cta"}], "detectedObject"}` with as many variants
 * as the system prompt asks for ("Write exactly N variants"), derived deterministically from the
 * last user message; otherwise it is plain text. A stream (`stream: true`) sends the content in
 * small chunks, `streamChunkDelayMs` apart (a model writing slowly). Asked for new captions (a
 * regenerate: the prompt lists captions "already seen"), each call's captions differ. Latency and
 * faults (see FakeFault) apply to chat completions; moderation only gets the latency.
 *
 * Control API (no auth), for a separate process such as `next start` or the benchmark:
 *
 *   GET  /__control/behaviour    -> current behaviour
 *   POST /__control/behaviour    body Partial<FakeOpenAIBehaviour> -> updated behaviour
 *   POST /__control/reset        behaviour back to defaults, stats zeroed
 *   POST /__control/reset-stats  stats zeroed only
 *   GET  /__control/stats        -> FakeOpenAIStats
 *
 * Run standalone: `PORT=4010 tsx e2e/support/fake-openai.ts` prints one JSON line {"url"} once
 * it is listening (PORT defaults to 0 = ephemeral, FAKE_OPENAI_HOST to 127.0.0.1); exits on SIGTERM/SIGINT.
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { pathToFileURL } from "node:url";
import { z } from "zod";
import { listen, portFromEnv } from "./listen";

export type FakeFault =
  | { kind: "none" }
  | { kind: "status"; status: 429 | 500 | 502 | 503; retryAfterSeconds?: number }
  | { kind: "timeout" } // accept the request and never answer (until the client aborts / server closes)
  | { kind: "malformed" } // 200 with a chat completion whose message.content is not valid JSON / not matching the schema
  | { kind: "empty" }; // 200 with empty content

export interface FakeOpenAIBehaviour {
  latencyMs: number; // added before answering, default 0
  fault: FakeFault; // default none
  /**
   * apply the fault only to the next N calls, then return to none; undefined = every call.
   * Counts down as calls arrive. `set({ fault })` without `faultCount` means "every call".
   */
  faultCount?: number;
  /** moderation: inputs containing any of these substrings (case-insensitive) are flagged */
  flaggedTerms: string[]; // default ["forbidden-term"]
  /** streams: the pause between content chunks, default 0 (all at once) */
  streamChunkDelayMs: number;
}

export interface FakeOpenAIStats {
  chatCalls: number;
  moderationCalls: number;
  /** chat completion requests currently open (arrived, response not finished, socket not closed) */
  inFlight: number;
  peakInFlight: number;
  lastChatRequest: unknown; // last parsed request body
  /** epoch ms when the last stream wrote its first content chunk / ended; null before any stream */
  lastStreamStartedAt: number | null;
  lastStreamEndedAt: number | null;
}

export interface FakeOpenAIServer {
  url: string; // "http://127.0.0.1:PORT" (SDK baseURL is url + "/v1")
  set(b: Partial<FakeOpenAIBehaviour>): void;
  reset(): void; // behaviour back to defaults and stats zeroed
  stats(): FakeOpenAIStats;
  resetStats(): void;
  close(): Promise<void>; // must also end hanging "timeout" requests
}

const MAX_BODY_BYTES = 25 * 1024 * 1024; // images arrive as base64 data URLs
const DEFAULT_MODERATION_MODEL = "omni-moderation-latest";
const MODELS = ["gpt-4o-mini", DEFAULT_MODERATION_MODEL];

const faultSchema = z.discriminatedUnion("kind", [
  z.object({ kind: z.literal("none") }),
  z.object({
    kind: z.literal("status"),
    status: z.union([z.literal(429), z.literal(500), z.literal(502), z.literal(503)]),
    retryAfterSeconds: z.number().nonnegative().optional(),
  }),
  z.object({ kind: z.literal("timeout") }),
  z.object({ kind: z.literal("malformed") }),
  z.object({ kind: z.literal("empty") }),
]);

/** A behaviour patch; `faultCount: null` (JSON has no undefined) means "every call". */
const behaviourPatchSchema = z.strictObject({
  latencyMs: z.number().int().nonnegative().optional(),
  fault: faultSchema.optional(),
  faultCount: z.number().int().nonnegative().nullable().optional(),
  flaggedTerms: z.array(z.string()).optional(),
  streamChunkDelayMs: z.number().int().nonnegative().optional(),
});

const defaultBehaviour = (): FakeOpenAIBehaviour => ({
  latencyMs: 0,
  fault: { kind: "none" },
  faultCount: undefined,
  flaggedTerms: ["forbidden-term"],
  streamChunkDelayMs: 0,
});

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly type = "invalid_request_error",
    readonly code: string | null = null,
  ) {
    super(message);
  }
}

type JsonRecord = Record<string, unknown>;
const isRecord = (value: unknown): value is JsonRecord =>
  typeof value === "object" && value !== null && !Array.isArray(value);

const errorMessage = (error: unknown): string => (error instanceof Error ? error.message : String(error));

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        reject(new HttpError(413, `request body larger than ${MAX_BODY_BYTES} bytes`));
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    req.on("error", reject);
    req.on("aborted", () => reject(new Error("request aborted")));
  });
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const text = await readBody(req);
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new HttpError(400, "We could not parse the JSON body of your request.");
  }
}

/** Resolves true after `ms`, or false as soon as `signal` aborts (the client went away). */
function delay(ms: number, signal: AbortSignal): Promise<boolean> {
  if (signal.aborted) return Promise.resolve(false);
  if (ms <= 0) return Promise.resolve(true);
  return new Promise((resolve) => {
    const onAbort = (): void => {
      clearTimeout(timer);
      resolve(false);
    };
    const timer = setTimeout(() => {
      signal.removeEventListener("abort", onAbort);
      resolve(true);
    }, ms);
    signal.addEventListener("abort", onAbort, { once: true });
  });
}

/** The text parts of a message's `content` (a string, null, or an array of content parts). */
function contentText(content: unknown): string {
  if (typeof content === "string") return content;
  if (!Array.isArray(content)) return "";
  return content
    .flatMap((part) => (isRecord(part) && part.type === "text" && typeof part.text === "string" ? [part.text] : []))
    .join("\n");
}

const hasImagePart = (content: unknown): boolean =>
  Array.isArray(content) && content.some((part) => isRecord(part) && part.type === "image_url");

const estimateTokens = (text: string): number => Math.ceil(text.length / 4);

interface ChatRequest {
  body: JsonRecord;
  model: string;
  messages: JsonRecord[];
}

function validateChatRequest(body: unknown): ChatRequest {
  if (!isRecord(body)) throw new HttpError(400, "The request body must be a JSON object.");
  const { model, messages } = body;
  if (typeof model !== "string" || model === "") {
    throw new HttpError(400, "you must provide a model parameter", "invalid_request_error", "missing_required_parameter");
  }
  if (!Array.isArray(messages) || messages.length === 0 || !messages.every(isRecord)) {
    throw new HttpError(
      400,
      "'messages' must be a non-empty array of message objects.",
      "invalid_request_error",
      "invalid_value",
    );
  }
  return { body, model, messages };
}

/** The assistant's content for a successful (or malformed / empty) answer. */
/** Regenerations so far in this process: each one's captions are new. */
let takes = 0;

function chatContent(request: ChatRequest, fault: FakeFault): string {
  if (fault.kind === "empty") return "";
  const userMessages = request.messages.filter((message) => message.role === "user");
  // The user's words without the prompt's data delimiters, cut by code points (never half an emoji).
  const lastUserText = contentText(userMessages.at(-1)?.content)
    .replace(/<\/?user_input>/g, "")
    .trim();
  const caption = `Fake caption: ${Array.from(lastUserText).slice(0, 60).join("")}`.trimEnd();
  if (fault.kind === "malformed") {
    // Truncated JSON, as a model cut off mid-answer would produce: never parses.
    return `{"variants": [{"hook": "question", "caption": ${JSON.stringify(caption)}, "hashtags": ["#fake", `;
  }
  const format = request.body.response_format;
  const structured = isRecord(format) && (format.type === "json_schema" || format.type === "json_object");
  if (!structured) return `${caption} #fake #litstatus #test`;
  const detectedObject = request.messages.some((message) => hasImagePart(message.content)) ? "object" : null;
  const system = contentText(request.messages.find((message) => message.role === "system")?.content);
  const count = Math.min(3, Math.max(1, Number(/Write exactly (\d+) variant/.exec(system)?.[1] ?? 1)));
  const withCta = system.includes("call to action (");
  const variants = Array.from({ length: count }, (_, i) => {
    const cta = withCta ? "Tell us what you think." : null;
    const fresh = system.includes("already seen") ? ` Take ${i === 0 ? ++takes : takes}.` : "";
    const text = `${i === 0 ? caption : caption.replace("Fake caption:", `Fake caption ${i + 1}:`)}.${fresh}`;
    return { hook: FAKE_HOOKS[i % FAKE_HOOKS.length], caption: cta ? `${text} ${cta}` : text, hashtags: ["#fake", "#litstatus", "#test"], cta };
  });
  return JSON.stringify({ variants, detectedObject });
}

const FAKE_HOOKS = ["question", "bold_claim", "story"] as const;
/** A stream's content chunk size, in characters: a few tokens. */
const STREAM_CHUNK_CHARS = 12;

const MODERATION_CATEGORIES = [
  "harassment",
  "harassment/threatening",
  "hate",
  "hate/threatening",
  "illicit",
  "illicit/violent",
  "self-harm",
  "self-harm/instructions",
  "self-harm/intent",
  "sexual",
  "sexual/minors",
  "violence",
  "violence/graphic",
] as const;
/** The category a flagged input is put in. */
const FLAGGED_CATEGORY = "illicit";

/** One text per moderation result: a string[] gets one result each, a multimodal array one in all. */
function moderationTexts(input: unknown): string[] {
  if (typeof input === "string") return [input];
  if (Array.isArray(input) && input.length > 0) {
    if (input.every((item) => typeof item === "string")) return input;
    if (input.every(isRecord)) {
      return [
        input
          .flatMap((item) => (item.type === "text" && typeof item.text === "string" ? [item.text] : []))
          .join("\n"),
      ];
    }
  }
  throw new HttpError(
    400,
    "'input' must be a string, an array of strings, or an array of multimodal input objects.",
    "invalid_request_error",
    "invalid_value",
  );
}

function moderationResult(text: string, flaggedTerms: readonly string[]) {
  const lower = text.toLowerCase();
  const flagged = flaggedTerms.some((term) => term !== "" && lower.includes(term.toLowerCase()));
  const categories: Record<string, boolean> = {};
  const scores: Record<string, number> = {};
  const appliedTypes: Record<string, string[]> = {};
  for (const category of MODERATION_CATEGORIES) {
    const hit = flagged && category === FLAGGED_CATEGORY;
    categories[category] = hit;
    scores[category] = hit ? 0.99 : 0.0001;
    appliedTypes[category] = ["text"];
  }
  return { flagged, categories, category_scores: scores, category_applied_input_types: appliedTypes };
}

function statusFaultError(status: 429 | 500 | 502 | 503, model: string): HttpError {
  switch (status) {
    case 429:
      return new HttpError(
        429,
        `Rate limit reached for ${model} (fake-openai fault injection). Please try again later.`,
        "requests",
        "rate_limit_exceeded",
      );
    case 500:
      return new HttpError(
        500,
        "The server had an error while processing your request (fake-openai fault injection).",
        "server_error",
        "server_error",
      );
    case 502:
      return new HttpError(502, "Bad gateway (fake-openai fault injection).", "server_error", "bad_gateway");
    case 503:
      return new HttpError(
        503,
        "The engine is currently overloaded, please try again later (fake-openai fault injection).",
        "server_error",
        "service_unavailable",
      );
  }
}

export async function startFakeOpenAI(opts: { port?: number; host?: string } = {}): Promise<FakeOpenAIServer> {
  const host = opts.host ?? "127.0.0.1";
  let behaviour = defaultBehaviour();
  let chatCalls = 0;
  let moderationCalls = 0;
  let inFlight = 0;
  let peakInFlight = 0;
  let lastChatRequest: unknown = null;
  let lastStreamStartedAt: number | null = null;
  let lastStreamEndedAt: number | null = null;
  let sequence = 0;

  const nextId = (prefix: string): string => `${prefix}-fake${(++sequence).toString(36).padStart(6, "0")}`;

  const resetStats = (): void => {
    chatCalls = 0;
    moderationCalls = 0;
    // inFlight is a live gauge: requests still open will decrement it when they end.
    peakInFlight = inFlight;
    lastChatRequest = null;
    lastStreamStartedAt = null;
    lastStreamEndedAt = null;
  };

  const stats = (): FakeOpenAIStats => ({
    chatCalls,
    moderationCalls,
    inFlight,
    peakInFlight,
    lastChatRequest,
    lastStreamStartedAt,
    lastStreamEndedAt,
  });

  const snapshotBehaviour = (): FakeOpenAIBehaviour => ({
    ...behaviour,
    fault: { ...behaviour.fault },
    flaggedTerms: [...behaviour.flaggedTerms],
  });

  /** Validates and applies a behaviour patch; `raw` is a caller's object or parsed JSON. */
  const applyPatch = (raw: unknown): void => {
    const result = behaviourPatchSchema.safeParse(raw);
    if (!result.success) throw new HttpError(400, `invalid behaviour: ${z.prettifyError(result.error)}`);
    const patch = result.data;
    const hasKey = (key: string): boolean => isRecord(raw) && key in raw;
    const next = snapshotBehaviour();
    if (patch.latencyMs !== undefined) next.latencyMs = patch.latencyMs;
    if (patch.flaggedTerms !== undefined) next.flaggedTerms = [...patch.flaggedTerms];
    if (patch.streamChunkDelayMs !== undefined) next.streamChunkDelayMs = patch.streamChunkDelayMs;
    if (patch.fault !== undefined) {
      next.fault = patch.fault;
      if (!hasKey("faultCount")) next.faultCount = undefined;
    }
    if (hasKey("faultCount")) next.faultCount = patch.faultCount ?? undefined;
    if (next.fault.kind === "none" || next.faultCount === 0) {
      next.fault = { kind: "none" };
      next.faultCount = undefined;
    }
    behaviour = next;
  };

  /** The fault for a call that just arrived, counting down `faultCount`. */
  const takeFault = (): FakeFault => {
    const fault = behaviour.fault;
    if (fault.kind !== "none" && behaviour.faultCount !== undefined) {
      behaviour.faultCount -= 1;
      if (behaviour.faultCount <= 0) behaviour = { ...behaviour, fault: { kind: "none" }, faultCount: undefined };
    }
    return fault;
  };

  const sendJson = (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void => {
    if (res.destroyed || res.writableEnded) return;
    res.writeHead(status, {
      "Content-Type": "application/json",
      "x-request-id": nextId("req"),
      ...headers,
    });
    res.end(JSON.stringify(body));
  };

  const sendError = (res: ServerResponse, error: HttpError, headers: Record<string, string> = {}): void => {
    sendJson(
      res,
      error.status,
      { error: { message: error.message, type: error.type, param: null, code: error.code } },
      headers,
    );
  };

  const requireBearer = (req: IncomingMessage): void => {
    const header = req.headers.authorization ?? "";
    if (!/^Bearer\s+\S+/i.test(header)) {
      throw new HttpError(
        401,
        "You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).",
        "invalid_request_error",
        "invalid_api_key",
      );
    }
  };

  /** Aborts when the response is done or the client goes away (socket closed). */
  const closeSignal = (res: ServerResponse): AbortSignal => {
    const controller = new AbortController();
    res.once("close", () => controller.abort());
    return controller.signal;
  };

  async function handleChat(req: IncomingMessage, res: ServerResponse): Promise<void> {
    inFlight += 1;
    peakInFlight = Math.max(peakInFlight, inFlight);
    let ended = false;
    res.once("close", () => {
      if (ended) return;
      ended = true;
      inFlight -= 1;
    });
    const signal = closeSignal(res);

    requireBearer(req);
    const request = validateChatRequest(await readJson(req));
    chatCalls += 1;
    lastChatRequest = request.body;
    const fault = takeFault();
    const latencyMs = behaviour.latencyMs;

    if (!(await delay(latencyMs, signal))) return;
    if (fault.kind === "timeout") return; // never answer; the socket closing ends it
    if (fault.kind === "status") {
      const headers: Record<string, string> = {};
      if (fault.retryAfterSeconds !== undefined) headers["retry-after"] = String(fault.retryAfterSeconds);
      sendError(res, statusFaultError(fault.status, request.model), headers);
      return;
    }

    const content = chatContent(request, fault);
    const promptTokens = request.messages.reduce(
      (sum, message) => sum + 4 + estimateTokens(contentText(message.content)),
      3,
    );
    const completionTokens = estimateTokens(content);
    const usage = {
      prompt_tokens: promptTokens,
      completion_tokens: completionTokens,
      total_tokens: promptTokens + completionTokens,
    };
    const id = nextId("chatcmpl");
    const created = Math.floor(Date.now() / 1000);

    if (request.body.stream === true) {
      const streamOptions = request.body.stream_options;
      const includeUsage = isRecord(streamOptions) && streamOptions.include_usage === true;
      const chunk = (choices: unknown[], extra: JsonRecord = {}): string =>
        `data: ${JSON.stringify({ id, object: "chat.completion.chunk", created, model: request.model, choices, ...extra })}\n\n`;
      const choice = (delta: JsonRecord, finishReason: string | null): JsonRecord => ({
        index: 0,
        delta,
        logprobs: null,
        finish_reason: finishReason,
      });
      res.writeHead(200, { "Content-Type": "text/event-stream", "Cache-Control": "no-cache", "x-request-id": id });
      res.write(chunk([choice({ role: "assistant", content: "", refusal: null }, null)]));
      const pause = behaviour.streamChunkDelayMs;
      lastStreamStartedAt = Date.now();
      const pieces = pause > 0 ? (content.match(new RegExp(`[\\s\\S]{1,${STREAM_CHUNK_CHARS}}`, "gu")) ?? []) : content === "" ? [] : [content];
      for (const [i, piece] of pieces.entries()) {
        if (i > 0 && !(await delay(pause, signal))) return;
        res.write(chunk([choice({ content: piece }, null)]));
      }
      res.write(chunk([choice({}, "stop")]));
      lastStreamEndedAt = Date.now();
      if (includeUsage) res.write(chunk([], { usage }));
      res.end("data: [DONE]\n\n");
      return;
    }

    sendJson(res, 200, {
      id,
      object: "chat.completion",
      created,
      model: request.model,
      choices: [
        {
          index: 0,
          message: { role: "assistant", content, refusal: null, annotations: [] },
          logprobs: null,
          finish_reason: "stop",
        },
      ],
      usage,
      service_tier: "default",
      system_fingerprint: "fp_fake_openai",
    });
  }

  async function handleModeration(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const signal = closeSignal(res);
    requireBearer(req);
    const body = await readJson(req);
    if (!isRecord(body)) throw new HttpError(400, "The request body must be a JSON object.");
    const texts = moderationTexts(body.input);
    moderationCalls += 1;
    const flaggedTerms = [...behaviour.flaggedTerms];
    if (!(await delay(behaviour.latencyMs, signal))) return;
    sendJson(res, 200, {
      id: nextId("modr"),
      model: typeof body.model === "string" && body.model !== "" ? body.model : DEFAULT_MODERATION_MODEL,
      results: texts.map((text) => moderationResult(text, flaggedTerms)),
    });
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const method = req.method ?? "GET";
    const path = new URL(req.url ?? "/", "http://localhost").pathname.replace(/\/+$/, "") || "/";
    const route = `${method} ${path}`;
    switch (route) {
      case "POST /v1/chat/completions":
        return handleChat(req, res);
      case "POST /v1/moderations":
        return handleModeration(req, res);
      case "GET /v1/models":
        requireBearer(req);
        return sendJson(res, 200, {
          object: "list",
          data: MODELS.map((id) => ({ id, object: "model", created: 1_700_000_000, owned_by: "openai" })),
        });
      case "GET /__control/behaviour":
        return sendJson(res, 200, snapshotBehaviour());
      case "POST /__control/behaviour":
        applyPatch(await readJson(req));
        return sendJson(res, 200, snapshotBehaviour());
      case "POST /__control/reset":
        behaviour = defaultBehaviour();
        resetStats();
        return sendJson(res, 200, { ok: true });
      case "POST /__control/reset-stats":
        resetStats();
        return sendJson(res, 200, { ok: true });
      case "GET /__control/stats":
        return sendJson(res, 200, stats());
      default:
        throw new HttpError(404, `Invalid URL (${method} ${path})`, "invalid_request_error", "unknown_url");
    }
  }

  /** Responses not yet closed, so close() can wait until every one has ended (and inFlight is 0). */
  const openResponses = new Map<ServerResponse, Promise<void>>();

  const server = createServer((req, res) => {
    openResponses.set(
      res,
      new Promise<void>((resolve) =>
        res.once("close", () => {
          openResponses.delete(res);
          resolve();
        }),
      ),
    );
    handle(req, res).catch((error: unknown) => {
      if (res.destroyed) return; // the client went away mid-request
      if (error instanceof HttpError) sendError(res, error);
      else sendError(res, new HttpError(500, errorMessage(error), "server_error", "server_error"));
    });
  });

  const url = await listen(server, opts.port, host);

  let closing: Promise<void> | undefined;
  return {
    url,
    set: (b) => {
      try {
        applyPatch(b);
      } catch (error) {
        throw new Error(`fake-openai: ${errorMessage(error)}`);
      }
    },
    reset: () => {
      behaviour = defaultBehaviour();
      resetStats();
    },
    stats,
    resetStats,
    close: () => {
      closing ??= (async () => {
        const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
        // close() alone waits for in-flight and keep-alive sockets, and a "timeout" request never ends.
        server.closeAllConnections();
        await stopped;
        await Promise.all(openResponses.values());
      })();
      return closing;
    },
  };
}

async function main(): Promise<void> {
  const port = portFromEnv();
  const server = await startFakeOpenAI({ port, host: process.env.FAKE_OPENAI_HOST || undefined });
  const shutdown = (): void => {
    void server.close().finally(() => process.exit(0));
  };
  process.once("SIGTERM", shutdown);
  process.once("SIGINT", shutdown);
  process.stdout.write(`${JSON.stringify({ url: server.url })}\n`);
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((error: unknown) => {
    process.stderr.write(`${errorMessage(error)}\n`);
    process.exit(1);
  });
}

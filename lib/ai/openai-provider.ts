/**
 * The OpenAI provider (or any OpenAI-compatible server via `baseURL`): structured-output chat
 * completions, vision for image requests, and the moderation endpoint.
 *
 * The SDK never retries (`maxRetries: 0`) and each call's deadline and cancellation come from
 * the caller: the generation engine owns the single bounded retry, the circuit breaker and the
 * overall deadline, and a hidden SDK retry would multiply upstream load and blow the deadline.
 */
import OpenAI, { APIConnectionError, APIConnectionTimeoutError, APIError, APIUserAbortError } from "openai";
import type { ChatCompletionContentPart, ChatCompletionMessageParam } from "openai/resources/chat/completions";
import { captionStreamer } from "./caption-stream";
import { nodeHttpFetch } from "./http-fetch";
import { captionResponseFormat, normalizeOutput } from "./output";
import { ruleFor } from "./platform-rules";
import { promptFor } from "./prompts";
import {
  UpstreamError,
  type CaptionProvider,
  type CaptionRequest,
  type GenerateOptions,
  type ModerateOptions,
} from "./types";

export interface OpenAIProviderConfig {
  apiKey: string;
  /** An OpenAI-compatible server, e.g. `http://127.0.0.1:4010/v1`; the SDK default when absent. */
  baseURL?: string;
  textModel: string;
  visionModel: string;
  moderationModel?: string;
}

/** The client's default, a backstop only: every call passes its own `timeoutMs`. */
const CLIENT_TIMEOUT_MS = 20_000;

/** Room for three long captions (more tokens in Chinese) plus hashtags and JSON. */
const MAX_COMPLETION_TOKENS = 4000;

/** Whole seconds from `retry-after-ms` or `retry-after` (seconds or an HTTP date), if present. */
function retryAfterSeconds(headers: Headers | undefined): number | undefined {
  const ms = Number(headers?.get("retry-after-ms") ?? Number.NaN);
  if (Number.isFinite(ms) && ms >= 0) return Math.ceil(ms / 1000);
  const value = headers?.get("retry-after");
  if (!value) return undefined;
  const seconds = /^\d+(\.\d+)?$/.test(value.trim()) ? Number(value) : (Date.parse(value) - Date.now()) / 1000;
  return Number.isFinite(seconds) ? Math.max(0, Math.ceil(seconds)) : undefined;
}

/** An API error with an HTTP response (a plain `instanceof` would type the fields as `any`). */
const isHttpError = (error: unknown): error is APIError<number, Headers> =>
  error instanceof APIError && typeof error.status === "number";

/**
 * SDK and fetch errors → UpstreamError. Anything unrecognized is rethrown as-is: it is a bug in
 * our code, not an upstream failure, and must not be retried or count against the breaker.
 */
function toUpstreamError(error: unknown): UpstreamError {
  if (error instanceof UpstreamError) return error;
  // The caller's signal fired (its overall deadline, or the client went away): a timeout too. A raw
  // fetch AbortError can surface when the abort lands while the response body is being read.
  if (error instanceof APIUserAbortError || (error instanceof Error && (error.name === "AbortError" || error.name === "TimeoutError"))) {
    return new UpstreamError("timeout", "request aborted", { cause: error });
  }
  // Subclass of APIConnectionError: must be checked first.
  if (error instanceof APIConnectionTimeoutError) {
    return new UpstreamError("timeout", "request timed out", { cause: error });
  }
  if (error instanceof APIConnectionError) {
    return new UpstreamError("network", error.message, { cause: error });
  }
  if (isHttpError(error)) {
    const options = { status: error.status, retryAfterSeconds: retryAfterSeconds(error.headers), cause: error };
    if (error.status === 429) return new UpstreamError("rate_limited", error.message, options);
    if (error.status === 408) return new UpstreamError("timeout", error.message, options);
    if (error.status >= 500) return new UpstreamError("server_error", error.message, options);
    // 400, and 401/403/404/422 too: a bad key, an unknown model, a rejected input.
    return new UpstreamError("bad_request", error.message, options);
  }
  throw error;
}

/**
 * The SDK validates `timeout` as a positive integer; a spent deadline becomes a 1 ms one (→ timeout).
 * The SDK's timeout covers the response headers only: the signal also carries the deadline, so a
 * stream that stalls halfway is cut at the same moment.
 */
const requestOptions = (opts: { signal?: AbortSignal; timeoutMs: number }) => {
  const timeout = Math.max(1, Math.ceil(opts.timeoutMs));
  const deadline = AbortSignal.timeout(timeout);
  return { timeout, signal: opts.signal ? AbortSignal.any([opts.signal, deadline]) : deadline, maxRetries: 0 };
};

interface Completed {
  content: string | null;
  refusal: string | null;
  usage?: OpenAI.CompletionUsage;
}

function userContent(req: CaptionRequest, text: string): string | ChatCompletionContentPart[] {
  if (!req.image) return text;
  const dataUrl = `data:${req.image.mime};base64,${Buffer.from(req.image.bytes).toString("base64")}`;
  return [
    { type: "text", text },
    // "low" detail: a fixed, small token cost, and enough to recognize the main subject.
    { type: "image_url", image_url: { url: dataUrl, detail: "low" } },
  ];
}

export function createOpenAIProvider(config: OpenAIProviderConfig): CaptionProvider {
  const { textModel, visionModel, moderationModel = "omni-moderation-latest" } = config;
  const client = new OpenAI({
    apiKey: config.apiKey,
    baseURL: config.baseURL,
    maxRetries: 0,
    timeout: CLIENT_TIMEOUT_MS,
    // node:http with kept-alive connections, not Next's patched fetch (cache lookups and trace
    // spans on every call) nor the runtime's (about 1.5 ms more CPU per call): ./http-fetch.ts.
    fetch: nodeHttpFetch,
  });
  const modelFor = (req: CaptionRequest): string => (req.image ? visionModel : textModel);

  return {
    name: "openai",
    modelFor,

    async generate(req: CaptionRequest, opts: GenerateOptions) {
      const model = opts.model ?? modelFor(req);
      const prompt = promptFor(req);
      const messages: ChatCompletionMessageParam[] = [
        { role: "system", content: prompt.system },
        { role: "user", content: userContent(req, prompt.user) },
      ];

      const params = { model, messages, response_format: captionResponseFormat, max_completion_tokens: MAX_COMPLETION_TOKENS };
      let completed: Completed;
      try {
        if (opts.onDelta) {
          // Streamed: the caption text goes out as the model writes it; the whole JSON is checked at the end.
          const options = requestOptions(opts);
          const stream = await client.chat.completions.create(
            { ...params, stream: true, stream_options: { include_usage: true } },
            options,
          );
          const streamer = captionStreamer(opts.onDelta);
          completed = { content: "", refusal: null };
          for await (const chunk of stream) {
            const delta = chunk.choices[0]?.delta;
            if (delta?.content) {
              completed.content += delta.content;
              streamer.push(delta.content);
            }
            if (delta?.refusal) completed.refusal = (completed.refusal ?? "") + delta.refusal;
            if (chunk.usage) completed.usage = chunk.usage;
          }
          // The SDK ends an aborted stream quietly, as if it were complete.
          if (options.signal.aborted) throw new UpstreamError("timeout", "stream cut at the deadline");
        } else {
          const completion = await client.chat.completions.create(params, requestOptions(opts));
          const message = completion.choices[0]?.message;
          completed = { content: message?.content ?? null, refusal: message?.refusal ?? null, usage: completion.usage };
        }
      } catch (error) {
        throw toUpstreamError(error);
      }

      if (completed.refusal) throw new UpstreamError("invalid_output", "model refused the request");
      // Empty content also covers finish_reason "content_filter"; "length" leaves truncated JSON.
      if (!completed.content) throw new UpstreamError("invalid_output", "model returned no content");
      let parsed: unknown;
      try {
        parsed = JSON.parse(completed.content);
      } catch (error) {
        throw new UpstreamError("invalid_output", "model output is not valid JSON", { cause: error });
      }

      return {
        ...normalizeOutput(parsed, { rule: ruleFor(req.platform), lang: req.lang, controls: req.controls, avoid: req.avoid }),
        provider: "openai",
        model,
        ...(completed.usage
          ? { usage: { promptTokens: completed.usage.prompt_tokens, completionTokens: completed.usage.completion_tokens } }
          : {}),
      };
    },

    async moderate(text: string, opts: ModerateOptions) {
      let response: OpenAI.ModerationCreateResponse;
      try {
        response = await client.moderations.create({ model: moderationModel, input: text }, requestOptions(opts));
      } catch (error) {
        throw toUpstreamError(error);
      }
      const result = response.results[0];
      if (!result) throw new UpstreamError("invalid_output", "moderation returned no result");
      return {
        flagged: result.flagged,
        categories: Object.entries(result.categories).flatMap(([name, hit]) => (hit === true ? [name] : [])),
      };
    },
  };
}

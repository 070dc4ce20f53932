/**
 * Proves the fake OpenAI server against the real `openai` SDK (no retries, short timeouts), plus
 * its HTTP control API and CLI mode.
 */
import { spawn } from "node:child_process";
import { once } from "node:events";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import OpenAI from "openai";
import { zodResponseFormat } from "openai/helpers/zod";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { z } from "zod";
import { type FakeOpenAIServer, startFakeOpenAI } from "./fake-openai";

const variantSchema = z.strictObject({
  hook: z.string(),
  caption: z.string(),
  hashtags: z.array(z.string()),
  cta: z.string().nullable(),
});
const outputSchema = z.strictObject({ variants: z.array(variantSchema), detectedObject: z.string().nullable() });
/** The first variant with the detected object: what most tests look at. */
const captionSchema = outputSchema.transform((o) => ({
  caption: o.variants[0]?.caption,
  hashtags: o.variants[0]?.hashtags,
  detectedObject: o.detectedObject,
}));

const captionJsonSchema = {
  type: "object",
  additionalProperties: false,
  required: ["variants", "detectedObject"],
  properties: {
    variants: {
      type: "array",
      items: {
        type: "object",
        additionalProperties: false,
        required: ["hook", "caption", "hashtags", "cta"],
        properties: {
          hook: { type: "string" },
          caption: { type: "string" },
          hashtags: { type: "array", items: { type: "string" } },
          cta: { type: ["string", "null"] },
        },
      },
    },
    detectedObject: { type: ["string", "null"] },
  },
};

const PIXEL =
  "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==";

let server: FakeOpenAIServer;

function client(timeout = 10_000, target: FakeOpenAIServer = server): OpenAI {
  return new OpenAI({ apiKey: "test", baseURL: `${target.url}/v1`, maxRetries: 0, timeout });
}

function captionRequest(userText: string): OpenAI.ChatCompletionCreateParamsNonStreaming {
  return {
    model: "gpt-4o-mini",
    messages: [
      { role: "system", content: "You write captions." },
      { role: "user", content: userText },
    ],
    response_format: {
      type: "json_schema",
      json_schema: { name: "caption", strict: true, schema: captionJsonSchema },
    },
  };
}

/** Resolves with the rejection of `promise` (fails the test if it resolves). */
async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error("expected the promise to reject");
}

async function waitFor(check: () => boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error("waitFor: condition not met in time");
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

beforeAll(async () => {
  server = await startFakeOpenAI();
});

afterAll(async () => {
  await server.close();
});

beforeEach(() => {
  server.reset();
});

describe("chat completions", () => {
  it("answers json_schema requests with the caption shape, derived from the last user message", async () => {
    const completion = await client().chat.completions.create(captionRequest("A sunset over the sea with friends"));
    expect(completion.object).toBe("chat.completion");
    expect(completion.model).toBe("gpt-4o-mini");
    expect(completion.id).toMatch(/^chatcmpl-/);
    const choice = completion.choices[0];
    expect(choice?.finish_reason).toBe("stop");
    expect(choice?.message.role).toBe("assistant");
    const parsed = captionSchema.parse(JSON.parse(choice?.message.content ?? ""));
    expect(parsed).toEqual({
      caption: "Fake caption: A sunset over the sea with friends.",
      hashtags: ["#fake", "#litstatus", "#test"],
      detectedObject: null,
    });
    const usage = completion.usage;
    expect(usage?.prompt_tokens).toBeGreaterThan(0);
    expect(usage?.completion_tokens).toBeGreaterThan(0);
    expect(usage?.total_tokens).toBe((usage?.prompt_tokens ?? 0) + (usage?.completion_tokens ?? 0));

    // Deterministic: the same request gives the same content.
    const again = await client().chat.completions.create(captionRequest("A sunset over the sea with friends"));
    expect(again.choices[0]?.message.content).toBe(choice?.message.content);
  });

  it("truncates the caption to the first 60 characters of the user text", async () => {
    const text = "x".repeat(100);
    const completion = await client().chat.completions.create(captionRequest(text));
    const parsed = captionSchema.parse(JSON.parse(completion.choices[0]?.message.content ?? ""));
    expect(parsed.caption).toBe(`Fake caption: ${"x".repeat(60)}.`);
  });

  it("works with the SDK's parse() helper and zodResponseFormat, and detects image parts", async () => {
    const completion = await client().chat.completions.parse({
      model: "gpt-4o-mini",
      messages: [
        { role: "user", content: "earlier message" },
        { role: "assistant", content: "ok" },
        {
          role: "user",
          content: [
            { type: "text", text: "What is in this photo?" },
            { type: "image_url", image_url: { url: PIXEL } },
          ],
        },
      ],
      response_format: zodResponseFormat(outputSchema, "captions"),
    });
    expect(completion.choices[0]?.message.parsed).toEqual({
      variants: [{ hook: "question", caption: "Fake caption: What is in this photo?.", hashtags: ["#fake", "#litstatus", "#test"], cta: null }],
      detectedObject: "object",
    });
  });

  it("answers json_object requests with JSON and plain requests with text", async () => {
    const json = await client().chat.completions.create({
      model: "gpt-4o-mini",
      messages: [{ role: "user", content: "json please" }],
      response_format: { type: "json_object" },
    });
    expect(captionSchema.parse(JSON.parse(json.choices[0]?.message.content ?? "")).caption).toBe(
      "Fake caption: json please.",
    );

    const plain = await client().chat.completions.create({
      model: "gpt-4.1-nano",
      messages: [{ role: "user", content: "hello there" }],
    });
    expect(plain.model).toBe("gpt-4.1-nano");
    const content = plain.choices[0]?.message.content ?? "";
    expect(content).toContain("Fake caption: hello there");
    expect(() => JSON.parse(content)).toThrow();
  });

  it("streams when asked to", async () => {
    const stream = await client().chat.completions.create({
      ...captionRequest("streamed"),
      stream: true,
      stream_options: { include_usage: true },
    });
    let content = "";
    let finish: string | null = null;
    let totalTokens = 0;
    for await (const chunk of stream) {
      content += chunk.choices[0]?.delta.content ?? "";
      finish = chunk.choices[0]?.finish_reason ?? finish;
      totalTokens = chunk.usage?.total_tokens ?? totalTokens;
    }
    expect(captionSchema.parse(JSON.parse(content)).caption).toBe("Fake caption: streamed.");
    expect(finish).toBe("stop");
    expect(totalTokens).toBeGreaterThan(0);
  });

  it("streams slowly in small chunks with streamChunkDelayMs, and says when it wrote", async () => {
    server.set({ streamChunkDelayMs: 40 });
    const started = Date.now();
    const stream = await client().chat.completions.create({ ...captionRequest("a slower stream of words"), stream: true });
    const arrivals: number[] = [];
    let content = "";
    for await (const chunk of stream) {
      const piece = chunk.choices[0]?.delta.content ?? "";
      if (piece !== "") arrivals.push(Date.now());
      content += piece;
    }
    expect(captionSchema.parse(JSON.parse(content)).caption).toBe("Fake caption: a slower stream of words.");
    expect(arrivals.length).toBeGreaterThan(5);
    const { lastStreamStartedAt, lastStreamEndedAt } = server.stats();
    expect(lastStreamEndedAt! - lastStreamStartedAt!).toBeGreaterThanOrEqual(40 * (arrivals.length - 1) - 20);
    expect(arrivals[0]! - started).toBeLessThan(lastStreamEndedAt! - started);
  });

  it("answers with as many variants as the system prompt asks for, each different", async () => {
    const request = captionRequest("three takes");
    request.messages[0] = { role: "system", content: "Write exactly 3 variants, each with a different hook." };
    const completion = await client().chat.completions.create(request);
    const parsed = outputSchema.parse(JSON.parse(completion.choices[0]?.message.content ?? ""));
    expect(parsed.variants.map((v) => v.hook)).toEqual(["question", "bold_claim", "story"]);
    expect(new Set(parsed.variants.map((v) => v.caption)).size).toBe(3);
  });

  it("records stats and the last request body", async () => {
    await client().chat.completions.create(captionRequest("first"));
    await client().chat.completions.create(captionRequest("second"));
    const stats = server.stats();
    expect(stats.chatCalls).toBe(2);
    expect(stats.moderationCalls).toBe(0);
    expect(stats.inFlight).toBe(0);
    expect(stats.peakInFlight).toBe(1);
    expect(stats.lastChatRequest).toMatchObject({
      model: "gpt-4o-mini",
      messages: [{ role: "system" }, { role: "user", content: "second" }],
    });
    server.resetStats();
    expect(server.stats()).toEqual({
      chatCalls: 0,
      moderationCalls: 0,
      inFlight: 0,
      peakInFlight: 0,
      lastChatRequest: null,
      lastStreamStartedAt: null,
      lastStreamEndedAt: null,
    });
  });

  it("rejects requests without a bearer token (401) and invalid bodies (400) in OpenAI's error shape", async () => {
    const url = `${server.url}/v1/chat/completions`;
    const body = JSON.stringify(captionRequest("hi"));
    const noAuth = await fetch(url, { method: "POST", headers: { "Content-Type": "application/json" }, body });
    expect(noAuth.status).toBe(401);
    expect(await noAuth.json()).toMatchObject({
      error: { type: "invalid_request_error", code: "invalid_api_key", message: expect.any(String) },
    });

    const headers = { "Content-Type": "application/json", Authorization: "Bearer test" };
    const notJson = await fetch(url, { method: "POST", headers, body: "{nope" });
    expect(notJson.status).toBe(400);
    expect(await notJson.json()).toMatchObject({ error: { type: "invalid_request_error" } });

    const noMessages = await fetch(url, { method: "POST", headers, body: JSON.stringify({ model: "gpt-4o-mini" }) });
    expect(noMessages.status).toBe(400);
    const noModel = await fetch(url, { method: "POST", headers, body: JSON.stringify({ messages: [] }) });
    expect(noModel.status).toBe(400);

    // The SDK maps the 401 to AuthenticationError.
    const basicAuth = new OpenAI({
      apiKey: "test",
      baseURL: `${server.url}/v1`,
      maxRetries: 0,
      defaultHeaders: { Authorization: "Basic dGVzdA==" },
    });
    const error = await rejection(basicAuth.chat.completions.create(captionRequest("hi")));
    expect(error).toBeInstanceOf(OpenAI.AuthenticationError);
    expect(server.stats().chatCalls).toBe(0);
  });
});

describe("faults", () => {
  it("429 with retryAfterSeconds surfaces as RateLimitError with a retry-after header", async () => {
    server.set({ fault: { kind: "status", status: 429, retryAfterSeconds: 7 } });
    const error = await rejection(client().chat.completions.create(captionRequest("hi")));
    expect(error).toBeInstanceOf(OpenAI.RateLimitError);
    if (!(error instanceof OpenAI.RateLimitError)) return;
    expect(error.status).toBe(429);
    expect(error.headers.get("retry-after")).toBe("7");
    expect(error.code).toBe("rate_limit_exceeded");
    expect(error.type).toBe("requests");
    expect(server.stats().chatCalls).toBe(1);
  });

  it.each([500, 502, 503] as const)("%i surfaces as InternalServerError", async (status) => {
    server.set({ fault: { kind: "status", status } });
    const error = await rejection(client().chat.completions.create(captionRequest("hi")));
    expect(error).toBeInstanceOf(OpenAI.InternalServerError);
    if (error instanceof OpenAI.APIError) expect(error.status).toBe(status);
  });

  it("timeout: the server never answers, the SDK times out, and inFlight drops once it aborts", async () => {
    server.set({ fault: { kind: "timeout" } });
    const error = await rejection(client(300).chat.completions.create(captionRequest("hi")));
    expect(error).toBeInstanceOf(OpenAI.APIConnectionTimeoutError);
    await waitFor(() => server.stats().inFlight === 0);
    expect(server.stats()).toMatchObject({ chatCalls: 1, peakInFlight: 1 });
  });

  it("malformed: 200 whose content is not JSON", async () => {
    server.set({ fault: { kind: "malformed" } });
    const completion = await client().chat.completions.create(captionRequest("hi"));
    const content = completion.choices[0]?.message.content ?? "";
    expect(content).not.toBe("");
    expect(() => JSON.parse(content)).toThrow(SyntaxError);
    expect(completion.usage?.total_tokens).toBeGreaterThan(0);
  });

  it("empty: 200 with empty content", async () => {
    server.set({ fault: { kind: "empty" } });
    const completion = await client().chat.completions.create(captionRequest("hi"));
    expect(completion.choices[0]?.message.content).toBe("");
    expect(completion.choices[0]?.finish_reason).toBe("stop");
  });

  it("faultCount: 2 fails the next two calls, then succeeds", async () => {
    server.set({ fault: { kind: "status", status: 500 }, faultCount: 2 });
    const openai = client();
    expect(await rejection(openai.chat.completions.create(captionRequest("1")))).toBeInstanceOf(
      OpenAI.InternalServerError,
    );
    expect(await rejection(openai.chat.completions.create(captionRequest("2")))).toBeInstanceOf(
      OpenAI.InternalServerError,
    );
    const third = await openai.chat.completions.create(captionRequest("3"));
    expect(captionSchema.parse(JSON.parse(third.choices[0]?.message.content ?? "")).caption).toBe("Fake caption: 3.");
    await openai.chat.completions.create(captionRequest("4"));
    expect(server.stats().chatCalls).toBe(4);
  });

  it("a fault without faultCount applies to every call until changed", async () => {
    server.set({ fault: { kind: "status", status: 503 }, faultCount: 1 });
    server.set({ fault: { kind: "status", status: 502 } }); // no faultCount: every call
    for (let i = 0; i < 3; i += 1) {
      expect(await rejection(client().chat.completions.create(captionRequest("x")))).toBeInstanceOf(
        OpenAI.InternalServerError,
      );
    }
    server.set({ fault: { kind: "none" } });
    await client().chat.completions.create(captionRequest("ok"));
  });

  it("set() rejects invalid behaviour", () => {
    expect(() => server.set({ latencyMs: -1 })).toThrow(/fake-openai/);
  });

  it("latencyMs 200 with 10 concurrent calls: peakInFlight 10, chatCalls 10", async () => {
    server.set({ latencyMs: 200 });
    const openai = client();
    const results = await Promise.all(
      Array.from({ length: 10 }, (_, i) => openai.chat.completions.create(captionRequest(`call ${i}`))),
    );
    expect(results).toHaveLength(10);
    const stats = server.stats();
    expect(stats.chatCalls).toBe(10);
    expect(stats.peakInFlight).toBe(10);
    await waitFor(() => server.stats().inFlight === 0);
  });
});

describe("moderations and models", () => {
  it("flags inputs containing a flagged term (case-insensitive) and nothing else", async () => {
    const openai = client();
    const flagged = await openai.moderations.create({
      model: "omni-moderation-latest",
      input: "this has a FORBIDDEN-TERM in it",
    });
    expect(flagged.model).toBe("omni-moderation-latest");
    expect(flagged.results).toHaveLength(1);
    expect(flagged.results[0]?.flagged).toBe(true);
    expect(Object.values(flagged.results[0]?.categories ?? {})).toContain(true);

    const clean = await openai.moderations.create({ model: "omni-moderation-latest", input: "hello" });
    expect(clean.results[0]?.flagged).toBe(false);
    expect(Object.values(clean.results[0]?.categories ?? {}).every((value) => value === false)).toBe(true);

    const many = await openai.moderations.create({ input: ["hello", "forbidden-term", "fine"] });
    expect(many.results.map((result) => result.flagged)).toEqual([false, true, false]);

    const multimodal = await openai.moderations.create({
      model: "omni-moderation-latest",
      input: [
        { type: "text", text: "caption with forbidden-term" },
        { type: "image_url", image_url: { url: PIXEL } },
      ],
    });
    expect(multimodal.results.map((result) => result.flagged)).toEqual([true]);

    server.set({ flaggedTerms: ["Spoiler"] });
    const custom = await openai.moderations.create({ input: ["a spoiler!", "forbidden-term"] });
    expect(custom.results.map((result) => result.flagged)).toEqual([true, false]);

    expect(server.stats().moderationCalls).toBe(5);
    expect(server.stats().chatCalls).toBe(0);
  });

  it("moderation ignores chat faults", async () => {
    server.set({ fault: { kind: "status", status: 500 } });
    const result = await client().moderations.create({ input: "hello" });
    expect(result.results[0]?.flagged).toBe(false);
  });

  it("lists gpt-4o-mini", async () => {
    const ids: string[] = [];
    for await (const model of client().models.list()) ids.push(model.id);
    expect(ids).toContain("gpt-4o-mini");
  });

  it("answers unknown routes with a 404 in OpenAI's error shape", async () => {
    const response = await fetch(`${server.url}/v1/embeddings`, { method: "POST", body: "{}" });
    expect(response.status).toBe(404);
    expect(await response.json()).toMatchObject({ error: { message: expect.any(String), type: expect.any(String) } });

    const error = await rejection(client().embeddings.create({ model: "text-embedding-3-small", input: "x" }));
    expect(error).toBeInstanceOf(OpenAI.NotFoundError);
  });
});

describe("control API", () => {
  it("configures behaviour, reports stats and resets over HTTP", async () => {
    const post = (path: string, body?: unknown): Promise<Response> =>
      fetch(`${server.url}${path}`, {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: body === undefined ? undefined : JSON.stringify(body),
      });

    const set = await post("/__control/behaviour", { fault: { kind: "status", status: 503 }, faultCount: 1 });
    expect(set.status).toBe(200);
    expect(await set.json()).toMatchObject({ fault: { kind: "status", status: 503 }, faultCount: 1, latencyMs: 0 });

    const error = await rejection(client().chat.completions.create(captionRequest("hi")));
    expect(error).toBeInstanceOf(OpenAI.InternalServerError);
    if (error instanceof OpenAI.APIError) expect(error.status).toBe(503);
    await client().chat.completions.create(captionRequest("hi"));

    const current = await fetch(`${server.url}/__control/behaviour`);
    expect(await current.json()).toMatchObject({ fault: { kind: "none" } });

    const stats = await fetch(`${server.url}/__control/stats`);
    expect(await stats.json()).toMatchObject({ chatCalls: 2, inFlight: 0, peakInFlight: 1 });

    const invalid = await post("/__control/behaviour", { fault: { kind: "status", status: 418 } });
    expect(invalid.status).toBe(400);
    expect(await invalid.json()).toMatchObject({ error: { message: expect.stringContaining("invalid behaviour") } });
    const typo = await post("/__control/behaviour", { latency: 5 });
    expect(typo.status).toBe(400);

    await post("/__control/behaviour", { latencyMs: 50, flaggedTerms: ["x"] });
    expect((await post("/__control/reset")).status).toBe(200);
    expect(server.stats()).toMatchObject({ chatCalls: 0, moderationCalls: 0, peakInFlight: 0 });
    const reset = await fetch(`${server.url}/__control/behaviour`);
    expect(await reset.json()).toEqual({ latencyMs: 0, fault: { kind: "none" }, flaggedTerms: ["forbidden-term"], streamChunkDelayMs: 0 });
  });
});

describe("lifecycle", () => {
  it("close() ends a hanging timeout request", async () => {
    const own = await startFakeOpenAI();
    own.set({ fault: { kind: "timeout" } });
    const pending = rejection(client(60_000, own).chat.completions.create(captionRequest("hang")));
    await waitFor(() => own.stats().inFlight === 1);
    await own.close();
    expect(await pending).toBeInstanceOf(OpenAI.APIConnectionError);
    expect(own.stats().inFlight).toBe(0);
    await own.close(); // idempotent
  });

  it("CLI mode prints {url} and exits on SIGTERM", async () => {
    const script = fileURLToPath(new URL("./fake-openai.ts", import.meta.url));
    const tsx = fileURLToPath(new URL("../../node_modules/.bin/tsx", import.meta.url));
    const child = spawn(tsx, [script], { env: { ...process.env, PORT: "0" }, stdio: ["ignore", "pipe", "inherit"] });
    try {
      const lines = createInterface({ input: child.stdout });
      const [line] = (await once(lines, "line")) as [string];
      const { url } = z.object({ url: z.string() }).parse(JSON.parse(line));
      expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      const models = await fetch(`${url}/v1/models`, { headers: { Authorization: "Bearer test" } });
      expect(models.status).toBe(200);
      const exited = once(child, "exit");
      child.kill("SIGTERM");
      const [code] = (await exited) as [number | null];
      expect(code).toBe(0);
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    }
  });
});

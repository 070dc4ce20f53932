/** Requests to a production server as the suite makes them, and what it reads back (readiness, metrics). */
import { collapseStream } from "@/e2e/support/harness/app-harness";

export interface CallOptions {
  method?: string;
  json?: unknown;
  /** A signed-in user's bearer token. */
  token?: string;
  /** The client's address, sent as X-Forwarded-For (the servers trust one proxy hop). */
  ip?: string;
  headers?: Record<string, string>;
  /** Ask POST /api/generate for server-sent events; the answer is collapsed to its JSON equivalent. */
  stream?: boolean;
}

export interface Answer {
  /** 0: no HTTP answer at all (connection refused or reset). */
  status: number;
  /** The envelope's error code, if any. */
  code?: string;
  retryAfter: string | null;
  body: unknown;
  /** Epoch ms when the request was sent and when its answer was complete. */
  at: number;
  endedAt: number;
}

export async function call(baseUrl: string, path: string, options: CallOptions = {}): Promise<Answer> {
  const headers: Record<string, string> = { ...options.headers };
  if (options.json !== undefined) headers["content-type"] = "application/json";
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  if (options.ip) headers["x-forwarded-for"] = options.ip;
  if (options.stream) headers.accept = "text/event-stream";
  const at = Date.now();
  try {
    const raw = await fetch(`${baseUrl}${path}`, {
      method: options.method ?? (options.json === undefined ? "GET" : "POST"),
      headers,
      body: options.json === undefined ? undefined : JSON.stringify(options.json),
    });
    const res = options.stream ? await collapseStream(raw) : raw;
    const text = await res.text();
    let body: unknown = text;
    try {
      body = JSON.parse(text) as unknown;
    } catch {
      // not JSON (metrics text)
    }
    const code = (body as { error?: { code?: unknown } } | null)?.error?.code;
    return { status: res.status, code: typeof code === "string" ? code : undefined, retryAfter: res.headers.get("retry-after"), body, at, endedAt: Date.now() };
  } catch (error) {
    return { status: 0, code: error instanceof Error ? error.message : String(error), retryAfter: null, body: null, at, endedAt: Date.now() };
  }
}

/** "200", "503 busy", "0 fetch failed". */
export const outcome = (answer: Answer): string => (answer.code === undefined ? String(answer.status) : `${answer.status} ${answer.code}`);

export const caption = (text: string) => ({ text, mode: "standard", lang: "en" });

/** The generation id of a 200 answer. */
export function generationId(answer: Answer): string {
  const id = (answer.body as { id?: unknown } | null)?.id;
  if (answer.status !== 200 || typeof id !== "string") throw new Error(`not a generation: ${outcome(answer)}`);
  return id;
}

export interface Readiness {
  status: "pass" | "warn" | "fail";
  checks: Record<"database" | "redis" | "openai" | "memory", { status: string; observedValue?: string; output?: string }>;
}

/** GET /api/health/ready with the metrics token (the details). */
export async function readiness(baseUrl: string, metricsToken: string): Promise<Readiness> {
  const res = await fetch(`${baseUrl}/api/health/ready`, { headers: { authorization: `Bearer ${metricsToken}` } });
  return (await res.json()) as Readiness;
}

/** The sum of a metric's samples in GET /api/metrics (0 when absent). */
export async function metric(baseUrl: string, metricsToken: string, name: string): Promise<number> {
  const res = await fetch(`${baseUrl}/api/metrics`, { headers: { authorization: `Bearer ${metricsToken}` } });
  if (res.status !== 200) throw new Error(`GET /api/metrics: ${res.status}`);
  const text = await res.text();
  let sum = 0;
  for (const line of text.split("\n")) {
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{[^}]*\})? (\S+)$/.exec(line);
    if (match?.[1] === name) sum += Number(match[2]);
  }
  return sum;
}

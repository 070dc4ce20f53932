/** Single requests to the app (node:http, keep-alive), timed, for misses, probes and checks. */
import http from "node:http";

/** The n-th client address of a run's own address space (10.a.b.c), as load.lua makes them. */
export function clientAddress(n: number): string {
  return `10.${(n >> 16) & 255}.${(n >> 8) & 255}.${n & 255}`;
}

export interface Caller {
  /** X-Forwarded-For: the client address the trusted proxy setting reads. */
  address: string;
  /** A signed-in user's Cookie header. */
  cookie?: string;
}

export interface Timed {
  status: number;
  ms: number;
  body: Record<string, unknown>;
  /** `X-Debug-Round-Trips` (kv=N; db=N) when the server runs with DEBUG=litstatus:*. */
  roundTrips?: { kv: number; db: number };
}

export function captionBody(text: string): string {
  return JSON.stringify({ text, mode: "standard", lang: "en" });
}

/**
 * One connection, kept alive: misses are sequential, and node:http rather than fetch so the
 * client's own work stays out of the figure (fetch added about 3-4 ms per request on this machine).
 */
const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });

function timed(url: string, init: { method?: string; headers: Record<string, string>; body?: string }, through: http.Agent = agent): Promise<Timed> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const req = http.request(url, { method: init.method ?? "GET", headers: init.headers, agent: through }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (chunk: Buffer) => chunks.push(chunk));
      res.on("error", reject);
      res.on("end", () => {
        const ms = performance.now() - started;
        const text = Buffer.concat(chunks).toString("utf8");
        let body: Record<string, unknown> = {};
        try {
          body = JSON.parse(text) as Record<string, unknown>;
        } catch {
          body = { text };
        }
        const header = res.headers["x-debug-round-trips"];
        const match = typeof header === "string" ? /kv=(\d+); db=(\d+)/.exec(header) : null;
        resolve({ status: res.statusCode ?? 0, ms, body, roundTrips: match ? { kv: Number(match[1]), db: Number(match[2]) } : undefined });
      });
    });
    req.on("error", reject);
    req.end(init.body);
  });
}

const callerHeaders = (caller: Caller): Record<string, string> => ({
  "x-forwarded-for": caller.address,
  ...(caller.cookie ? { cookie: caller.cookie } : {}),
});

export function postGenerate(baseUrl: string, text: string, caller: Caller): Promise<Timed> {
  return timed(`${baseUrl}/api/generate`, {
    method: "POST",
    headers: { "content-type": "application/json", ...callerHeaders(caller) },
    body: captionBody(text),
  });
}

/** The bare app's model route (bench/bare/app/api/model): the control for a miss. */
export function postBareModel(baseUrl: string, text: string): Promise<Timed> {
  return timed(`${baseUrl}/api/model`, { method: "POST", headers: { "content-type": "application/json" }, body: captionBody(text) });
}

/** The model-alone calls' own kept-alive connections: two at once, apart from the app's and the bare route's. */
const modelAgent = new http.Agent({ keepAlive: true });

/**
 * The model alone: the fake's completion and moderation side by side, called by the benchmark's
 * own process with no server in between. What the model costs over its nominal latency on this
 * machine, before any route is involved.
 */
export async function callModelDirect(fakeUrl: string, text: string): Promise<{ statuses: number[]; ms: number }> {
  const post = (path: string, payload: unknown) =>
    timed(`${fakeUrl}/v1${path}`, { method: "POST", headers: { "content-type": "application/json", authorization: "Bearer bench" }, body: JSON.stringify(payload) }, modelAgent);
  const started = performance.now();
  const answers = await Promise.all([
    post("/chat/completions", { model: "gpt-4o-mini", messages: [{ role: "user", content: text }] }),
    post("/moderations", { model: "omni-moderation-latest", input: text }),
  ]);
  return { statuses: answers.map((answer) => answer.status), ms: performance.now() - started };
}

export function getPath(baseUrl: string, path: string, caller: Caller): Promise<Timed> {
  return timed(`${baseUrl}${path}`, { headers: callerHeaders(caller) });
}

/** Throws unless the answer is a 200 generation with the expected `cached` flag. */
export function expectGeneration(answer: Timed, cached: boolean, what: string): void {
  if (answer.status !== 200) throw new Error(`${what}: answered ${answer.status} ${JSON.stringify(answer.body).slice(0, 300)}`);
  if (answer.body.cached !== cached) throw new Error(`${what}: expected cached=${cached}, got ${String(answer.body.cached)}`);
}

/** Single requests to the app (fetch, keep-alive), timed, for misses, probes and checks. */

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

async function timed(url: string, init: RequestInit): Promise<Timed> {
  const started = performance.now();
  const res = await fetch(url, init);
  const text = await res.text();
  const ms = performance.now() - started;
  let body: Record<string, unknown> = {};
  try {
    body = JSON.parse(text) as Record<string, unknown>;
  } catch {
    body = { text };
  }
  const header = res.headers.get("x-debug-round-trips");
  const match = header ? /kv=(\d+); db=(\d+)/.exec(header) : null;
  return { status: res.status, ms, body, roundTrips: match ? { kv: Number(match[1]), db: Number(match[2]) } : undefined };
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

export function getPath(baseUrl: string, path: string, caller: Caller): Promise<Timed> {
  return timed(`${baseUrl}${path}`, { headers: callerHeaders(caller) });
}

/** Throws unless the answer is a 200 generation with the expected `cached` flag. */
export function expectGeneration(answer: Timed, cached: boolean, what: string): void {
  if (answer.status !== 200) throw new Error(`${what}: answered ${answer.status} ${JSON.stringify(answer.body).slice(0, 300)}`);
  if (answer.body.cached !== cached) throw new Error(`${what}: expected cached=${cached}, got ${String(answer.body.cached)}`);
}

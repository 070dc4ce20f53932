/**
 * The load wrk puts on the server (bench/support/load.lua through runWrk), checked against a
 * recording HTTP server: what each mode sends, the rotating client addresses, the soak's mix,
 * and the counts wrk reports. Needs Debian's wrk (npm run bench installs it; CI has it).
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { listen } from "@/e2e/support/listen";
import { clientAddress } from "./client";
import { failures, runWrk } from "./wrk";

interface Seen {
  method: string;
  url: string;
  xff?: string;
  cookie?: string;
  contentType?: string;
  body: string;
}

const hasWrk = spawnSync("wrk", ["--version"]).error === undefined;

describe.skipIf(!hasWrk)("load.lua through wrk", () => {
  let server: Server;
  let url: string;
  let seen: Seen[] = [];
  let dir: string;
  const file = (name: string, text: string) => {
    const full = path.join(dir, name);
    writeFileSync(full, text);
    return full;
  };

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), "wrk-test-"));
    server = createServer((req, res) => {
      let body = "";
      req.on("data", (chunk: Buffer) => (body += chunk.toString("utf8")));
      req.on("end", () => {
        seen.push({
          method: req.method ?? "",
          url: req.url ?? "",
          xff: req.headers["x-forwarded-for"] as string | undefined,
          cookie: req.headers.cookie,
          contentType: req.headers["content-type"],
          body,
        });
        // History pages answer 429 here, to see wrk count statuses.
        res.writeHead(req.url?.startsWith("/api/generations") ? 429 : 200, { "content-type": "application/json" });
        res.end("{}");
      });
    });
    url = await listen(server);
  });
  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
    rmSync(dir, { recursive: true, force: true });
  });

  it("generate mode: the body as given, and a new client address for every request, from the offset on", async () => {
    seen = [];
    const body = '{"text":"a cached text","mode":"standard","lang":"en"}';
    const result = await runWrk({ url, connections: 4, durationS: 1, script: { WRK_MODE: "generate", WRK_BODY_FILE: file("body.json", body), WRK_ROTATE: "1", WRK_OFFSET: "1000" } });
    expect(result.requests).toBeGreaterThan(100);
    // wrk counts completed answers; a request still open when it stopped was sent but not counted.
    expect(seen.length - result.requests).toBeGreaterThanOrEqual(0);
    expect(seen.length - result.requests).toBeLessThanOrEqual(4);
    expect(failures(result)).toBe(0);
    expect(new Set(seen.map((s) => `${s.method} ${s.url} ${s.contentType} ${s.body}`))).toEqual(new Set([`POST /api/generate application/json ${body}`]));
    const addresses = seen.map((s) => s.xff);
    expect(new Set(addresses).size).toBe(seen.length);
    // Consecutive addresses after the offset (wrk may make one request it never sends).
    const numbers = addresses.map((a) => a!.split(".").slice(1).reduce((n, part) => n * 256 + Number(part), 0));
    expect(Math.min(...numbers)).toBeGreaterThanOrEqual(1001);
    expect(Math.min(...numbers)).toBeLessThanOrEqual(1002);
    expect(Math.max(...numbers) - Math.min(...numbers) + 1).toBe(seen.length);
    expect(addresses[0]).toMatch(/^10\.0\.3\.23[34]$/);
    expect(seen.every((s) => s.cookie === undefined)).toBe(true);
  });

  it("generate mode without rotation: one fixed request, with the user's cookie", async () => {
    seen = [];
    const result = await runWrk({
      url,
      connections: 2,
      durationS: 1,
      script: { WRK_MODE: "generate", WRK_BODY_FILE: file("user.json", '{"text":"x"}'), WRK_COOKIES: file("cookies.txt", "ls_session=abc\n") },
    });
    expect(result.requests).toBeGreaterThan(100);
    expect(failures(result)).toBe(0);
    expect(new Set(seen.map((s) => `${s.xff} ${s.cookie} ${s.body}`))).toEqual(new Set(['undefined ls_session=abc {"text":"x"}']));
  });

  it("static mode: plain GETs of the URL", async () => {
    seen = [];
    const result = await runWrk({ url: `${url}/api/health`, connections: 2, durationS: 1, script: { WRK_MODE: "static" } });
    expect(result.requests).toBeGreaterThan(100);
    expect(failures(result)).toBe(0);
    expect(new Set(seen.map((s) => `${s.method} ${s.url} ${s.xff} ${s.body}`))).toEqual(new Set(["GET /api/health undefined "]));
  });

  it("soak mode: the cycle of 20 (4 health, 9 guest hits, 1 guest miss, 3 user hits, 1 user miss, 2 history), guests cycling through the addresses", async () => {
    seen = [];
    const hit = '{"text":"cached","mode":"standard","lang":"en"}';
    const result = await runWrk({
      url,
      connections: 1,
      durationS: 1,
      script: {
        WRK_MODE: "soak",
        WRK_BODY_FILE: file("hit.json", hit),
        WRK_COOKIES: file("users.txt", "ls_session=u1\nls_session=u2\nls_session=u3\n"),
        WRK_ADDRESSES: "7",
        WRK_NONCE: "n1",
      },
    });
    expect(seen.length).toBeGreaterThan(200);
    const kind = (s: Seen): string => {
      if (s.method === "GET") return s.url === "/api/health" ? "health" : s.url === "/api/generations?limit=10" && s.cookie ? "history" : `unknown ${s.url}`;
      if (s.url !== "/api/generate" || s.contentType !== "application/json") return `unknown ${s.url}`;
      const who = s.cookie ? "user" : "guest";
      return s.body === hit ? `${who} hit` : /^\{"text":"soak n1 0 \d+ a distinct evening by the sea","mode":"standard","lang":"en"\}$/.test(s.body) ? `${who} miss` : "unknown body";
    };
    // One connection: requests arrive in the order the script makes them.
    const counts: Record<string, number> = {};
    for (const s of seen.slice(0, 200)) counts[kind(s)] = (counts[kind(s)] ?? 0) + 1;
    expect(counts).toEqual({ health: 40, "guest hit": 90, "guest miss": 10, "user hit": 30, "user miss": 10, history: 20 });
    const guests = seen.filter((s) => !s.cookie && s.method === "POST");
    expect(new Set(guests.map((s) => s.xff))).toEqual(new Set([0, 1, 2, 3, 4, 5, 6].map(clientAddress)));
    const misses = seen.filter((s) => kind(s).endsWith("miss")).map((s) => s.body);
    expect(new Set(misses).size).toBe(misses.length);
    expect(new Set(seen.filter((s) => s.cookie).map((s) => s.cookie))).toEqual(new Set(["ls_session=u1", "ls_session=u2", "ls_session=u3"]));
    // Statuses are counted in this mode (the recorder answers 429 to history pages).
    const history = seen.filter((s) => kind(s) === "history").length;
    expect(result.statuses["429"]! - history).toBeLessThanOrEqual(0);
    expect(result.statuses["429"]! - history).toBeGreaterThanOrEqual(-1);
    expect(result.errors.status).toBe(result.statuses["429"]);
    expect((result.statuses["200"] ?? 0) + result.statuses["429"]!).toBe(result.requests);
  });
});

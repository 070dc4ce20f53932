/**
 * nodeHttpFetch against a real local HTTP server: what the OpenAI SDK relies on (status,
 * headers, a body read as it arrives, cancellation, failures shaped like fetch's) and what it
 * adds (kept-alive connections, decoding). The provider's own tests (openai-provider.test.ts)
 * run the SDK through it against the fake OpenAI server.
 */
import http from "node:http";
import type { AddressInfo, Socket } from "node:net";
import zlib from "node:zlib";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { IDLE_SOCKET_MS, nodeHttpFetch } from "./http-fetch";

type Handler = (req: http.IncomingMessage, res: http.ServerResponse, body: string) => void;

let server: http.Server;
let base = "";
let handler: Handler = (_req, res) => res.end("ok");
let connections = 0;
let closedRequests = 0;
const sockets = new Set<Socket>();

beforeAll(async () => {
  server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => handler(req, res, Buffer.concat(chunks).toString("utf8")));
    res.on("close", () => {
      if (!res.writableFinished) closedRequests++;
    });
  });
  server.on("connection", (socket) => {
    connections++;
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  for (const socket of sockets) socket.destroy();
  await new Promise((resolve) => server.close(resolve));
});
beforeEach(async () => {
  // Each test starts with no connection: the client's kept-alive ones see the close first.
  for (const socket of sockets) socket.destroy();
  await sleep(20);
  connections = 0;
  closedRequests = 0;
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe("nodeHttpFetch", () => {
  it("sends the method, headers and a multibyte body with its byte length; returns status, status text, every header and the body", async () => {
    let seen: { method?: string; headers: http.IncomingHttpHeaders; body: string } | undefined;
    handler = (req, res, body) => {
      seen = { method: req.method, headers: req.headers, body };
      res.writeHead(201, "Made It", [["X-One", "1"], ["Set-Cookie", "a=1"], ["Set-Cookie", "b=2"], ["Content-Type", "application/json"]]);
      res.end(JSON.stringify({ echoed: body }));
    };
    const body = JSON.stringify({ text: "日本 ☕ 😀" });
    const res = await nodeHttpFetch(`${base}/v1/things?x=1`, {
      method: "post",
      headers: new Headers({ Authorization: "Bearer sk-test", "Content-Type": "application/json" }),
      body,
    });
    expect(seen).toMatchObject({ method: "POST", body, headers: { authorization: "Bearer sk-test", "content-type": "application/json", "content-length": String(Buffer.byteLength(body)) } });
    expect(res.status).toBe(201);
    expect(res.statusText).toBe("Made It");
    expect(res.ok).toBe(true);
    expect(res.headers.get("x-one")).toBe("1");
    expect(res.headers.getSetCookie()).toEqual(["a=1", "b=2"]);
    expect(await res.json()).toEqual({ echoed: body });
  });

  it("sends bytes as they are, and a GET with no body", async () => {
    const seen: string[] = [];
    handler = (req, res, body) => {
      seen.push(`${req.method} ${body} ${req.headers["content-length"] ?? "-"}`);
      res.end();
    };
    await (await nodeHttpFetch(`${base}/b`, { method: "PUT", body: new TextEncoder().encode("bytes") })).arrayBuffer();
    await (await nodeHttpFetch(`${base}/g`)).arrayBuffer();
    expect(seen).toEqual(["PUT bytes 5", "GET  -"]);
  });

  it("hands the body over as it arrives: the first chunk is read before the server writes the second", async () => {
    let writeSecond: () => void = () => {};
    handler = (_req, res) => {
      res.writeHead(200, { "content-type": "text/event-stream" });
      res.write("data: one\n\n");
      writeSecond = () => res.end("data: two\n\n");
    };
    const res = await nodeHttpFetch(`${base}/stream`, { method: "POST", body: "{}" });
    const reader = res.body!.getReader();
    const first = await reader.read();
    expect(new TextDecoder().decode(first.value)).toBe("data: one\n\n");
    writeSecond();
    let rest = "";
    for (let part = await reader.read(); !part.done; part = await reader.read()) rest += new TextDecoder().decode(part.value);
    expect(rest).toBe("data: two\n\n");
  });

  it("keeps the connection alive: sequential calls use one connection", async () => {
    handler = (_req, res) => res.end("ok");
    for (let i = 0; i < 5; i++) expect(await (await nodeHttpFetch(`${base}/k`, { method: "POST", body: "x" })).text()).toBe("ok");
    // A null body is no body, sent here too (the runtime's fetch would open a connection of its own).
    expect(await (await nodeHttpFetch(`${base}/k`, { body: null })).text()).toBe("ok");
    expect(connections).toBe(1);
  });

  it("a call that waits longer than the idle-connection timeout is not cut: only idle kept-alive connections close", async () => {
    handler = (_req, res) => setTimeout(() => res.end("late"), IDLE_SOCKET_MS + 300);
    const res = await nodeHttpFetch(`${base}/long`, { method: "POST", body: "{}" });
    expect(await res.text()).toBe("late");
  }, IDLE_SOCKET_MS + 10_000);

  it("closes an idle kept-alive connection a second before the server's own Keep-Alive timeout", async () => {
    handler = (_req, res) => {
      res.setHeader("Keep-Alive", "timeout=2");
      res.end("ok");
    };
    await (await nodeHttpFetch(`${base}/hint`)).text();
    expect(sockets.size).toBe(1);
    await expect.poll(() => sockets.size, { timeout: 4_000, interval: 50 }).toBe(0); // the server itself waits 5 s
  });

  it("an abort before the answer rejects with the signal's reason and closes the request", async () => {
    handler = () => {}; // never answers
    const controller = new AbortController();
    const call = nodeHttpFetch(`${base}/slow`, { method: "POST", body: "{}", signal: controller.signal });
    await sleep(50);
    controller.abort();
    const error = await call.catch((e: unknown) => e);
    expect(error).toMatchObject({ name: "AbortError" });
    await expect.poll(() => closedRequests).toBe(1);

    const timedOut = await nodeHttpFetch(`${base}/slow`, { signal: AbortSignal.timeout(50) }).catch((e: unknown) => e);
    expect(timedOut).toMatchObject({ name: "TimeoutError" });
  });

  it("an abort while the body is read errors the body with the signal's reason", async () => {
    handler = (_req, res) => {
      res.writeHead(200);
      res.write("first");
    };
    const controller = new AbortController();
    const res = await nodeHttpFetch(`${base}/half`, { signal: controller.signal });
    const reader = res.body!.getReader();
    await reader.read();
    const pending = reader.read();
    controller.abort();
    expect(await pending.catch((e: unknown) => e)).toMatchObject({ name: "AbortError" });
    await expect.poll(() => closedRequests).toBe(1);
  });

  it("an already aborted signal rejects at once and sends nothing", async () => {
    let calls = 0;
    handler = (_req, res) => {
      calls++;
      res.end();
    };
    const error = await nodeHttpFetch(`${base}/never`, { signal: AbortSignal.abort() }).catch((e: unknown) => e);
    expect(error).toMatchObject({ name: "AbortError" });
    await sleep(50);
    expect(calls).toBe(0);
  });

  it("a refused connection rejects like fetch: TypeError 'fetch failed' with the cause", async () => {
    const closed = http.createServer();
    await new Promise<void>((resolve) => closed.listen(0, "127.0.0.1", resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    const error = (await nodeHttpFetch(`http://127.0.0.1:${port}/`, { method: "POST", body: "{}" }).catch((e: unknown) => e)) as TypeError & { cause: { code?: string } };
    expect(error).toBeInstanceOf(TypeError);
    expect(error.message).toBe("fetch failed");
    expect(error.cause.code).toBe("ECONNREFUSED");
  });

  it("a connection cut before the answer rejects as a fetch failure; one cut mid-body errors the body", async () => {
    handler = (req) => req.socket.destroy();
    const early = await nodeHttpFetch(`${base}/cut`, { method: "POST", body: "{}" }).catch((e: unknown) => e);
    expect(early).toMatchObject({ name: "TypeError", message: "fetch failed" });

    handler = (req, res) => {
      res.writeHead(200, { "content-length": "100" });
      res.write("partial");
      setTimeout(() => req.socket.destroy(), 20);
    };
    const res = await nodeHttpFetch(`${base}/cut-body`);
    const error = await res.text().catch((e: unknown) => e);
    expect(error).toMatchObject({ name: "TypeError", message: "terminated" });
  });

  it("decodes gzip, deflate and br answers", async () => {
    const text = "caption ".repeat(200);
    for (const [coding, encode] of [
      ["gzip", zlib.gzipSync],
      ["deflate", zlib.deflateSync],
      ["br", zlib.brotliCompressSync],
    ] as const) {
      handler = (_req, res) => {
        res.writeHead(200, { "content-encoding": coding });
        res.end(encode(Buffer.from(text)));
      };
      expect(await (await nodeHttpFetch(`${base}/z`)).text()).toBe(text);
    }
  });

  it("204 and HEAD answers have no body, and the connection is reused after them", async () => {
    handler = (_req, res) => {
      res.writeHead(204);
      res.end();
    };
    const empty = await nodeHttpFetch(`${base}/none`, { method: "DELETE" });
    expect(empty.status).toBe(204);
    expect(empty.body).toBeNull();
    handler = (_req, res) => {
      res.writeHead(200, { "content-length": "5" });
      res.end();
    };
    const head = await nodeHttpFetch(`${base}/head`, { method: "HEAD" });
    expect(head.body).toBeNull();
    handler = (_req, res) => res.end("after");
    expect(await (await nodeHttpFetch(`${base}/after`)).text()).toBe("after");
    expect(connections).toBe(1);
  });

  it("a body it does not send itself (a stream) goes to the runtime's fetch", async () => {
    handler = (_req, res, body) => res.end(`got ${body}`);
    const stream = new ReadableStream({
      start(controller) {
        controller.enqueue(new TextEncoder().encode("streamed"));
        controller.close();
      },
    });
    const res = await nodeHttpFetch(`${base}/s`, { method: "POST", body: stream, duplex: "half" } as RequestInit);
    expect(await res.text()).toBe("got streamed");
  });

  it("a cancelled body closes the connection; the next call opens a new one", async () => {
    handler = (_req, res) => {
      res.writeHead(200);
      res.write("part");
    };
    const res = await nodeHttpFetch(`${base}/cancel`);
    await res.body!.cancel();
    await expect.poll(() => closedRequests).toBe(1);
    handler = (_req, res) => res.end("fresh");
    expect(await (await nodeHttpFetch(`${base}/fresh`)).text()).toBe("fresh");
    expect(connections).toBe(2);
  });
});

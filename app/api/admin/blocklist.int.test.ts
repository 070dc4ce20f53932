/**
 * The blocklist's admin API: list, add (an address or a CIDR range), remove by id. Validation
 * failures are 400 and change nothing; every write is audited (`blocklist.add`/`.remove`, with
 * before/after, actor, IP); moderators, users and guests cannot write (403/401, nothing
 * changed); an entry is enforced on every route of this instance at once and lifted at once.
 * Two instances: lib/security/blocklist-two-instances.int.test.ts.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestApp, type TestApp } from "@/e2e/support/harness/app-harness";

let app: TestApp;
let admin: { userId: string; token: string };
let moderator: { userId: string; token: string };
let user: { userId: string; token: string };

/** Every request of the admins comes from here; the blocked addresses are TEST-NET-2 (198.51.100.0/24). */
const ADMIN_IP = "203.0.113.10";

async function body<T>(res: Response): Promise<T> {
  return (await res.json()) as T;
}

async function errorCode(res: Response): Promise<string | undefined> {
  return (await body<{ error?: { code?: string } }>(res)).error?.code;
}

const get = (path: string, token = moderator.token) => app.request("GET", path, { token, ip: ADMIN_IP });

beforeAll(async () => {
  app = await startTestApp();
  admin = await app.signUp("sec-admin@example.test");
  moderator = await app.signUp("sec-mod@example.test");
  user = await app.signUp();
  await app.db.query(`update litstatus.profiles set role = 'admin' where user_id = $1`, [admin.userId]);
  await app.db.query(`update litstatus.profiles set role = 'moderator' where user_id = $1`, [moderator.userId]);
});

afterAll(async () => {
  await app?.close();
});

describe("/api/admin/blocklist", () => {
  interface Item {
    id: string;
    target: string;
    reason: string;
    createdBy: string | null;
    createdAt: string;
    expiresAt: string;
  }
  const post = (json: unknown, token = admin.token) => app.request("POST", "/api/admin/blocklist", { token, ip: ADMIN_IP, json });
  const del = (id: string, token = admin.token) => app.request("DELETE", `/api/admin/blocklist?id=${id}`, { token, ip: ADMIN_IP });
  const list = async () => (await body<{ items: Item[] }>(await get("/api/admin/blocklist"))).items;
  const audit = () =>
    app.db.query<{ action: string; target: string; actor_id: string; ip: string; after: unknown; before: unknown }>(
      `select action, target, actor_id::text as actor_id, ip, after, before from litstatus.admin_audit_log where action like 'blocklist.%' order by id`,
    );

  it("adds an address: 201 with the entry, audited, listed, and enforced at once; removing restores access", async () => {
    const client = "198.51.100.77";
    expect((await app.request("GET", "/api/health", { ip: client })).status).toBe(200);
    const before = Date.now();
    const res = await post({ ip: client, reason: "credential stuffing", ttlSeconds: 600 });
    expect(res.status).toBe(201);
    const item = await body<Item>(res);
    expect(item).toMatchObject({ target: client, reason: "credential stuffing", createdBy: "sec-admin@example.test" });
    expect(Date.parse(item.expiresAt) - Date.parse(item.createdAt)).toBe(600_000);
    expect(Date.parse(item.createdAt)).toBeGreaterThanOrEqual(before - 5);
    expect((await list()).map((i) => i.id)).toContain(item.id);

    for (const path of ["/api/health", "/api/me", "/api/admin/security-events"]) {
      const blocked = await app.request("GET", path, { ip: client, token: admin.token });
      expect(blocked.status, path).toBe(403);
      expect(await errorCode(blocked)).toBe("ip_blocked");
      expect(Number(blocked.headers.get("retry-after"))).toBeGreaterThan(590);
    }
    // Another address is unaffected.
    expect((await app.request("GET", "/api/health", { ip: "198.51.100.78" })).status).toBe(200);

    const removed = await del(item.id);
    expect(removed.status).toBe(200);
    expect(await body<{ removed: Item }>(removed)).toEqual({ removed: item });
    expect((await app.request("GET", "/api/health", { ip: client })).status).toBe(200);
    expect((await list()).map((i) => i.id)).not.toContain(item.id);

    const rows = (await audit()).filter((r) => r.target === client);
    expect(rows.map((r) => r.action)).toEqual(["blocklist.add", "blocklist.remove"]);
    expect(rows[0]).toMatchObject({ actor_id: admin.userId, ip: ADMIN_IP, before: null, after: item });
    expect(rows[1]).toMatchObject({ before: item, after: null });
    await app.flush();
    const [events] = await app.db.query<{ n: number }>(`select count(*)::int as n from litstatus.security_events where event_type = 'ip_blocked' and ip = $1::inet`, [client]);
    expect(events?.n).toBe(3);
  });

  it("adds a CIDR range that covers every address in it", async () => {
    const res = await post({ cidr: "198.51.100.128/25", reason: "scanner range", ttlSeconds: 3600 });
    expect(res.status).toBe(201);
    const item = await body<Item>(res);
    expect(item.target).toBe("198.51.100.128/25");
    expect((await app.request("GET", "/api/health", { ip: "198.51.100.200" })).status).toBe(403);
    expect((await app.request("GET", "/api/health", { ip: "198.51.100.127" })).status).toBe(200);
    expect((await del(item.id)).status).toBe(200);
    expect((await app.request("GET", "/api/health", { ip: "198.51.100.200" })).status).toBe(200);
  });

  it("refuses bad input with 400 and writes nothing", async () => {
    const count = (await list()).length;
    const auditCount = (await audit()).length;
    for (const json of [
      { ip: "198.51.100.300", reason: "x", ttlSeconds: 600 },
      { ip: "198.51.100.0/24", reason: "x", ttlSeconds: 600 },
      { ip: "fe80::1%eth0", reason: "x", ttlSeconds: 600 },
      { cidr: "198.51.100.1", reason: "x", ttlSeconds: 600 },
      { cidr: "198.51.100.0/40", reason: "x", ttlSeconds: 600 },
      { ip: "198.51.100.5", cidr: "198.51.100.0/24", reason: "x", ttlSeconds: 600 },
      { reason: "x", ttlSeconds: 600 },
      { ip: "198.51.100.5", ttlSeconds: 600 },
      { ip: "198.51.100.5", reason: "   ", ttlSeconds: 600 },
      { ip: "198.51.100.5", reason: "x".repeat(501), ttlSeconds: 600 },
      { ip: "198.51.100.5", reason: "x", ttlSeconds: 0 },
      { ip: "198.51.100.5", reason: "x", ttlSeconds: 59 },
      { ip: "198.51.100.5", reason: "x", ttlSeconds: 365 * 86_400 + 1 },
      { ip: "198.51.100.5", reason: "x", ttlSeconds: 600.5 },
      { ip: "198.51.100.5", reason: "x", ttlSeconds: "600" },
      { ip: "198.51.100.5", reason: "x", ttlSeconds: 600, extra: true },
      // The acting admin's own address, alone or in a range: refused (it would lock them out).
      { ip: ADMIN_IP, reason: "oops", ttlSeconds: 600 },
      { cidr: "203.0.113.0/24", reason: "oops", ttlSeconds: 600 },
      { cidr: "0.0.0.0/0", reason: "oops", ttlSeconds: 600 },
    ]) {
      const res = await post(json);
      expect(res.status, JSON.stringify(json)).toBe(400);
      expect(await errorCode(res)).toBe("invalid_input");
    }
    expect((await app.request("DELETE", "/api/admin/blocklist?id=nope", { token: admin.token, ip: ADMIN_IP })).status).toBe(400);
    expect((await app.request("DELETE", "/api/admin/blocklist", { token: admin.token, ip: ADMIN_IP })).status).toBe(400);
    expect((await list()).length).toBe(count);
    expect((await audit()).length).toBe(auditCount);
  });

  it("answers 404 for an unknown id, auditing nothing", async () => {
    const auditCount = (await audit()).length;
    const res = await del("00000000-0000-4000-8000-000000000000");
    expect(res.status).toBe(404);
    expect(await errorCode(res)).toBe("not_found");
    expect((await audit()).length).toBe(auditCount);
  });

  it("lets moderators read but not write (403, nothing changed); users and guests get nothing", async () => {
    const created = await body<Item>(await post({ ip: "198.51.100.90", reason: "kept", ttlSeconds: 600 }));
    const before = await list();
    const auditCount = (await audit()).length;

    const add = await post({ ip: "198.51.100.91", reason: "mod", ttlSeconds: 600 }, moderator.token);
    expect(add.status).toBe(403);
    expect(await errorCode(add)).toBe("forbidden");
    const remove = await del(created.id, moderator.token);
    expect(remove.status).toBe(403);
    expect(await errorCode(remove)).toBe("forbidden");
    expect((await post({ ip: "198.51.100.91", reason: "user", ttlSeconds: 600 }, user.token)).status).toBe(403);
    expect((await app.request("POST", "/api/admin/blocklist", { ip: ADMIN_IP, json: { ip: "198.51.100.91", reason: "anon", ttlSeconds: 600 } })).status).toBe(401);
    expect((await get("/api/admin/blocklist", user.token)).status).toBe(403);

    expect(await list()).toEqual(before);
    expect((await audit()).length).toBe(auditCount);
    expect((await app.request("GET", "/api/health", { ip: "198.51.100.91" })).status).toBe(200);
    expect((await del(created.id)).status).toBe(200);
  });

  it("refuses a cross-site write", async () => {
    const res = await app.request("POST", "/api/admin/blocklist", {
      token: admin.token,
      ip: ADMIN_IP,
      json: { ip: "198.51.100.92", reason: "csrf", ttlSeconds: 600 },
      headers: { origin: "https://evil.example" },
    });
    expect(res.status).toBe(403);
    expect((await list()).map((i) => i.target)).not.toContain("198.51.100.92");
  });
});

describe("blocklist entries in IPv6 and over time", () => {
  it("blocks an IPv6 range, and lifts an entry by itself when its TTL runs out", async () => {
    const post = (json: unknown) => app.request("POST", "/api/admin/blocklist", { token: admin.token, ip: ADMIN_IP, json });
    const six = await body<{ id: string; target: string }>(await post({ cidr: "2001:DB8:1::/48", reason: "v6 range", ttlSeconds: 600 }));
    expect(six.target).toBe("2001:db8:1::/48");
    expect((await app.request("GET", "/api/health", { ip: "2001:db8:1::5" })).status).toBe(403);
    expect((await app.request("GET", "/api/health", { ip: "2001:db8:2::5" })).status).toBe(200);
    expect((await app.request("DELETE", `/api/admin/blocklist?id=${six.id}`, { token: admin.token, ip: ADMIN_IP })).status).toBe(200);

    // The API's shortest TTL is a minute; the store's expiry is the same for any TTL: use 1 s.
    const { blockAddress } = await import("@/lib/security/blocklist");
    const entry = await blockAddress({ target: "198.51.100.99", reason: "short", ttlSeconds: 1 });
    expect((await app.request("GET", "/api/health", { ip: "198.51.100.99" })).status).toBe(403);
    await new Promise((r) => setTimeout(r, 1300));
    expect((await app.request("GET", "/api/health", { ip: "198.51.100.99" })).status).toBe(200);
    const listed = await body<{ items: { id: string }[] }>(await get("/api/admin/blocklist"));
    expect(listed.items.map((i) => i.id)).not.toContain(entry.id);
    expect((await app.request("DELETE", `/api/admin/blocklist?id=${entry.id}`, { token: admin.token, ip: ADMIN_IP })).status).toBe(404);
  });
});

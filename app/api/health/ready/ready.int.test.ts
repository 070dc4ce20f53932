import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BREAKER_KEY } from "@/lib/generation/keys";
import { startTestApp, type TestApp } from "@/e2e/support/harness/app-harness";

/**
 * Who reads readiness' error details (PRODUCT §5: "only to admins or the metrics token"), through
 * the route as a client calls it. The breaker is forced open so a check has details to show
 * while the database, which verifies a session, stays up.
 */
const METRICS_TOKEN = "metrics-token-for-readiness-0123";

interface ReadyBody {
  status: string;
  checks: Record<string, { status: string; observedValue?: string; output?: string }>;
}

let app: TestApp;
let admin: string;
let moderator: string;
let user: string;

beforeAll(async () => {
  app = await startTestApp({ METRICS_TOKEN });
  const signUp = async (email: string, role?: "admin" | "moderator") => {
    const { userId, token } = await app.signUp(email);
    if (role) await app.db.query(`update litstatus.profiles set role = $2 where user_id = $1`, [userId, role]);
    return token;
  };
  admin = await signUp("ready-admin@example.test", "admin");
  moderator = await signUp("ready-moderator@example.test", "moderator");
  user = await signUp("ready-user@example.test");
  await app.kv.breakerWrite(BREAKER_KEY, "open");
});
afterAll(async () => {
  await app?.close();
});

async function readiness(options: { token?: string; headers?: Record<string, string> } = {}) {
  const res = await app.request("GET", "/api/health/ready", options);
  expect(res.headers.get("content-type")).toContain("application/health+json");
  return { status: res.status, body: (await res.json()) as ReadyBody };
}

describe(`readiness details (${process.env.TEST_DATABASE_URL ? "real" : "embedded"} stores)`, () => {
  it("an admin's session and the metrics token read the details; the same answer otherwise, without them", async () => {
    const forAdmin = await readiness({ token: admin });
    expect(forAdmin.status).toBe(200);
    expect(forAdmin.body.status).toBe("warn");
    expect(forAdmin.body.checks.openai).toMatchObject({ status: "warn", observedValue: "breaker open", output: expect.stringMatching(/^open since /) });

    const forOperator = await readiness({ headers: { authorization: `Bearer ${METRICS_TOKEN}` } });
    expect(forOperator.body.checks.openai?.output).toMatch(/^open since /);

    for (const [who, options] of [
      ["anyone", {}],
      ["a user", { token: user }],
      ["a moderator", { token: moderator }],
      ["a wrong metrics token", { headers: { authorization: "Bearer not-the-metrics-token" } }],
      ["a forged session", { token: `${admin.slice(0, -4)}AAAA` }],
    ] as const) {
      const { status, body } = await readiness(options);
      expect(status, who).toBe(200);
      expect(body.status, who).toBe("warn");
      expect(body.checks.openai, who).toMatchObject({ status: "warn", observedValue: "breaker open" });
      for (const check of Object.values(body.checks)) expect(check.output, who).toBeUndefined();
    }
  });

  it("a forged or stale session on readiness is not reported as an auth failure (monitors are not attackers)", async () => {
    await app.flush();
    const [before] = await app.db.query<{ n: number }>(`select count(*)::int as n from litstatus.security_events where event_type = 'auth_failure'`);
    await readiness({ token: `${admin.slice(0, -4)}AAAA` });
    await app.flush();
    const [after] = await app.db.query<{ n: number }>(`select count(*)::int as n from litstatus.security_events where event_type = 'auth_failure'`);
    expect(after!.n).toBe(before!.n);
  });
});

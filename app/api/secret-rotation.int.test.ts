/**
 * Rotating secrets without downtime (issue 11, docs/OPERATIONS.md "Rotating secrets"): with the
 * new value in X and the old one in X_PREVIOUS, what was issued or configured with the old value
 * keeps working, new sessions are signed with the new one, and anything else is still refused.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestApp, TEST_AUTH_SECRET, type TestApp } from "@/e2e/support/harness/app-harness";
import { signSessionToken } from "@/lib/auth/tokens";

const NEW_AUTH_SECRET = "the-new-signing-secret-after-rotation-0123456789";
let app: TestApp;

beforeAll(async () => {
  app = await startTestApp({
    AUTH_SECRET: NEW_AUTH_SECRET,
    AUTH_SECRET_PREVIOUS: TEST_AUTH_SECRET,
    METRICS_TOKEN: "metrics-new",
    METRICS_TOKEN_PREVIOUS: "metrics-old",
    CRON_SECRET: "cron-new",
    CRON_SECRET_PREVIOUS: "cron-old",
  });
});
afterAll(async () => {
  await app.close();
});

describe("secret rotation", () => {
  it("keeps sessions signed with the previous AUTH_SECRET; refuses any other secret", async () => {
    // signUp() signs with TEST_AUTH_SECRET: the previous secret here.
    const { userId, token: oldSession } = await app.signUp();
    const me = await app.request("GET", "/api/me", { token: oldSession });
    expect(me.status).toBe(200);
    const newSession = await signSessionToken({ sub: userId, email: null }, NEW_AUTH_SECRET, 3600);
    expect((await app.request("GET", "/api/me", { token: newSession })).status).toBe(200);
    const forged = await signSessionToken({ sub: userId, email: null }, "some-other-secret-that-nobody-configured-000", 3600);
    expect((await app.request("GET", "/api/me", { token: forged })).status).toBe(401);
  });

  it("accepts the previous metrics token and cron secret alongside the new ones", async () => {
    for (const token of ["metrics-new", "metrics-old"]) {
      expect((await app.request("GET", "/api/metrics", { headers: { authorization: `Bearer ${token}` } })).status).toBe(200);
    }
    expect((await app.request("GET", "/api/metrics", { headers: { authorization: "Bearer metrics-other" } })).status).toBe(401);
    for (const secret of ["cron-new", "cron-old"]) {
      expect((await app.request("POST", "/api/cron/retention", { headers: { authorization: `Bearer ${secret}` } })).status).toBe(200);
    }
    expect((await app.request("POST", "/api/cron/retention", { headers: { authorization: "Bearer cron-other" } })).status).toBe(401);
  });
});

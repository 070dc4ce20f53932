import { expect, test } from "@playwright/test";

test("home page renders with no console errors", async ({ page }) => {
  const errors: string[] = [];
  page.on("console", (message) => {
    if (message.type() === "error") errors.push(message.text());
  });
  page.on("pageerror", (error) => errors.push(error.message));
  const response = await page.goto("/");
  expect(response?.status()).toBe(200);
  await expect(page.getByRole("heading", { level: 1 })).toContainText("LitStatus");
  expect(errors).toEqual([]);
});

test("unknown page is a 404 page, unknown API path the 404 envelope", async ({ page, request }) => {
  const response = await page.goto("/no-such-page");
  expect(response?.status()).toBe(404);
  const api = await request.get("/api/no-such-route");
  expect(api.status()).toBe(404);
  const body = (await api.json()) as { error: { code: string; requestId: string } };
  expect(body.error.code).toBe("not_found");
  expect(api.headers()["x-request-id"]).toBe(body.error.requestId);
});

test("health and readiness answer for monitors", async ({ request }) => {
  const health = await request.get("/api/health");
  expect(health.status()).toBe(200);
  expect(await health.json()).toMatchObject({ status: "ok" });
  const ready = await request.get("/api/health/ready");
  expect(ready.status()).toBe(200);
  expect(ready.headers()["content-type"]).toContain("application/health+json");
  const body = (await ready.json()) as { status: string; checks: Record<string, { status: string }> };
  expect(body.checks.database?.status).toBe("pass");
});

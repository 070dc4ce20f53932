import { expect, test } from "./support/test";

test("home page renders with no console errors", async ({ page }) => {
  const errors: string[] = [];
  page.on("console", (message) => {
    if (message.type() === "error") errors.push(message.text());
  });
  page.on("pageerror", (error) => errors.push(error.message));
  const response = await page.goto("/");
  expect(response?.status()).toBe(200);
  await expect(page.getByRole("heading", { level: 1 })).toHaveText("Write my caption");
  await expect(page.locator("html")).toHaveAttribute("lang", "en");
  expect(errors).toEqual([]);
});

test("unknown page is a 404 page, unknown API path the 404 envelope", async ({ page, request }) => {
  const response = await page.goto("/no-such-page");
  expect(response?.status()).toBe(404);
  await expect(page.getByRole("heading", { level: 1 })).toHaveText("Page not found");
  const api = await request.get("/api/no-such-route");
  expect(api.status()).toBe(404);
  const body = (await api.json()) as { error: { code: string; requestId: string } };
  expect(body.error.code).toBe("not_found");
  expect(api.headers()["x-request-id"]).toBe(body.error.requestId);
});

test("every response carries one X-Request-Id: pages, 404s, files, API answers; a proxy's id is kept", async ({ page, request }) => {
  const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
  const home = await page.goto("/");
  const script = await page.locator("script[src^='/_next/static/']").first().getAttribute("src");
  expect(script).toBeTruthy();
  const seen = new Set<string>();
  for (const [path, status] of [["/", 200], ["/zh", 200], ["/no-such-page", 404], [script!, 200], ["/favicon.ico", 200], ["/robots.txt", 200], ["/api/health", 200], ["/api/no-such-route", 404]] as const) {
    const res = await request.get(path);
    expect(res.status(), path).toBe(status);
    const ids = res.headersArray().filter((h) => h.name.toLowerCase() === "x-request-id");
    expect(ids, path).toHaveLength(1);
    expect(ids[0]!.value, path).toMatch(uuid);
    seen.add(ids[0]!.value);
  }
  expect(seen.size).toBe(8); // one per request
  expect(home?.headers()["x-request-id"]).toMatch(uuid);

  // nginx sends its $request_id upstream: the app answers and logs under the same id, and an
  // error envelope quotes it.
  const traced = await request.get("/api/no-such-route", { headers: { "X-Request-Id": "0123456789abcdef0123456789abcdef" } });
  expect(traced.headers()["x-request-id"]).toBe("0123456789abcdef0123456789abcdef");
  expect(((await traced.json()) as { error: { requestId: string } }).error.requestId).toBe("0123456789abcdef0123456789abcdef");
  const page404 = await request.get("/no-such-page", { headers: { "X-Request-Id": "<b>not-an-id</b>" } });
  expect(page404.headers()["x-request-id"]).toMatch(uuid);
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

test("pages carry a nonce-based CSP and the security headers; the page runs under it without violations", async ({ page }) => {
  const violations: string[] = [];
  await page.exposeFunction("__reportCsp", (text: string) => violations.push(text));
  await page.addInitScript(() => {
    document.addEventListener("securitypolicyviolation", (e) => {
      (window as unknown as { __reportCsp(text: string): void }).__reportCsp(`${e.violatedDirective} ${e.blockedURI}`);
    });
  });
  const response = await page.goto("/");
  const headers = response?.headers() ?? {};
  const csp = headers["content-security-policy"] ?? "";
  const scriptSrc = /script-src ([^;]+)/.exec(csp)?.[1] ?? "";
  expect(scriptSrc).toMatch(/'nonce-[A-Za-z0-9+/=]+'/);
  expect(scriptSrc).not.toContain("unsafe-inline");
  expect(csp).toContain("frame-ancestors 'none'");
  expect(headers["x-content-type-options"]).toBe("nosniff");
  expect(headers["referrer-policy"]).toBe("strict-origin-when-cross-origin");
  expect(headers["permissions-policy"]).toBeTruthy();
  expect(headers["strict-transport-security"]).toBe("max-age=63072000; includeSubDomains"); // the production server
  // Interact so client code runs, then confirm nothing was blocked.
  await page.getByLabel("What's your post about?").fill("csp check");
  await page.locator("label", { hasText: "Rizz" }).click();
  expect(violations).toEqual([]);
});

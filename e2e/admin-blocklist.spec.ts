import { request as playwrightRequest, type APIRequestContext } from "@playwright/test";
import { expect, test } from "./support/test";
import { expectAccessible, signIn, watchConsole } from "./support/browser";

/**
 * Security console and blocklist in the browser: an admin (ADMIN_EMAILS in playwright.config.ts)
 * finds a client's security event, blocks its address with one click, and the client gets 403
 * ip_blocked; removing the entry on the blocklist page serves it again. The blocklist page's add
 * form blocks a CIDR range the same way. The server trusts X-Forwarded-For with one hop, so a
 * request context with its own X-Forwarded-For plays each client. Never 127.0.0.1: the blocked
 * addresses are TEST-NET-2 (198.51.100.0/24); the admin browses as 198.18.9.x.
 */
const CLIENT = "198.51.100.123";
const RANGE = "198.51.100.128/25";
const IN_RANGE = "198.51.100.200";

let clientSeq = 0;
test.beforeEach(async ({ context }) => {
  clientSeq += 1;
  await context.setExtraHTTPHeaders({ "x-forwarded-for": `198.18.9.${(clientSeq % 250) + 1}` });
});

/** A cookie-less API client that the server sees as `address`. */
async function clientAt(baseURL: string, address: string): Promise<APIRequestContext> {
  return playwrightRequest.newContext({ baseURL, extraHTTPHeaders: { "x-forwarded-for": address } });
}

async function statusOf(client: APIRequestContext): Promise<string> {
  // A new connection each time: a kept-alive one left idle while the admin works in the browser
  // can meet the server closing it (its 5 s keep-alive timeout) and fail with ECONNRESET.
  const res = await client.get("/api/health", { headers: { connection: "close" } });
  if (res.status() === 200) return "200";
  const body = (await res.json().catch(() => null)) as { error?: { code?: string } } | null;
  return `${res.status()} ${body?.error?.code ?? ""}`.trim();
}

/** What the client gets for a page: "200", or "403" with the blocked page's first heading and Retry-After. */
async function pageOf(client: APIRequestContext, path: string): Promise<string> {
  const res = await client.get(path, { headers: { connection: "close" } });
  if (res.status() === 200) return "200";
  const html = await res.text();
  const heading = /<h1>([^<]*)<\/h1>/.exec(html)?.[1] ?? "";
  const retryAfter = Number(res.headers()["retry-after"]);
  return `${res.status()} ${res.headers()["content-type"]} ${heading} retry-after ${retryAfter > 0 && retryAfter <= 3600 ? "ok" : retryAfter}`;
}

test("an admin blocks an address from the security console and unblocks it on the blocklist page", async ({ page, baseURL }) => {
  test.setTimeout(90_000);
  const errors = watchConsole(page);
  const client = await clientAt(baseURL!, CLIENT);
  const rangeClient = await clientAt(baseURL!, IN_RANGE);
  expect(await statusOf(client)).toBe("200");
  expect(await statusOf(rangeClient)).toBe("200");

  // The client misbehaves: a malformed event is refused and recorded as an invalid_input security event.
  const bad = await client.post("/api/events", { data: {}, headers: { "content-type": "application/json" } });
  expect(bad.status()).toBe(400);

  await signIn(page, "admin@e2e.test");

  // Its event shows up (events are written off the request path, within a second or so).
  const events = page.getByTestId("security-events");
  await expect
    .poll(
      async () => {
        await page.goto(`/en/admin/security?ip=${encodeURIComponent(CLIENT)}`);
        return events.getByRole("cell", { name: "invalid_input" }).count();
      },
      { timeout: 15_000 },
    )
    .toBeGreaterThan(0);
  await expectAccessible(page);

  // One click on "Block" next to the address, a reason and a duration.
  await events.getByRole("button", { name: `Block ${CLIENT}` }).first().click();
  const form = events.getByRole("form", { name: `Block ${CLIENT}` });
  await form.getByLabel("Reason").fill("e2e: malformed events");
  await form.getByLabel("Block for").selectOption({ label: "1 hour" });
  await form.getByRole("button", { name: `Block ${CLIENT}` }).click();
  await expect(events.getByText("Blocked", { exact: true }).first()).toBeVisible();
  await expect.poll(() => statusOf(client), { timeout: 2_000 }).toBe("403 ip_blocked");
  expect(await statusOf(rangeClient)).toBe("200");
  // Pages too (PRODUCT §6: every route), in the visitor's language, for the entry's remaining hour.
  expect(await pageOf(client, "/")).toBe("403 text/html; charset=utf-8 Access from your network is paused retry-after ok");
  expect(await pageOf(client, "/zh/pricing")).toBe("403 text/html; charset=utf-8 你所在网络的访问已暂停 retry-after ok");
  expect(await pageOf(rangeClient, "/")).toBe("200");
  await page.screenshot({ path: "e2e/.artifacts/admin-security.png", fullPage: true });

  // The blocklist page lists it; its add form blocks a range too.
  await page.goto("/en/admin/blocklist");
  const table = page.getByTestId("blocklist-table");
  await expect(table.getByRole("rowheader", { name: CLIENT })).toBeVisible();
  await expect(table.getByRole("row").filter({ hasText: CLIENT })).toContainText("e2e: malformed events");
  await page.getByLabel("IP address or CIDR range").fill(RANGE);
  await page.getByLabel("Reason").fill("e2e: scanner range");
  await page.getByLabel("Block for").selectOption({ label: "24 hours" });
  await page.getByRole("button", { name: "Add to blocklist" }).click();
  await expect(table.getByRole("rowheader", { name: RANGE })).toBeVisible();
  await expect.poll(() => statusOf(rangeClient), { timeout: 2_000 }).toBe("403 ip_blocked");
  await expectAccessible(page);
  await page.screenshot({ path: "e2e/.artifacts/admin-blocklist.png", fullPage: true });

  // Removing each entry restores access.
  await table.getByRole("button", { name: `Remove ${CLIENT}` }).click();
  await expect(table.getByRole("rowheader", { name: CLIENT })).toHaveCount(0);
  await expect.poll(() => statusOf(client), { timeout: 2_000 }).toBe("200");
  expect(await pageOf(client, "/")).toBe("200");
  await table.getByRole("button", { name: `Remove ${RANGE}` }).click();
  await expect(table.getByRole("rowheader", { name: RANGE })).toHaveCount(0);
  await expect.poll(() => statusOf(rangeClient), { timeout: 2_000 }).toBe("200");

  // The refusals were recorded: the blocked client's requests appear as ip_blocked events.
  await expect
    .poll(
      async () => {
        await page.goto(`/en/admin/security?type=ip_blocked&ip=${encodeURIComponent(CLIENT)}`);
        return page.getByTestId("security-events").getByRole("cell", { name: "ip_blocked" }).count();
      },
      { timeout: 15_000 },
    )
    .toBeGreaterThan(0);
  // The refused page loads among them, by path: a blocked visitor may never call an API.
  for (const path of ["/", "/zh/pricing"]) {
    await expect(page.getByTestId("security-events").getByRole("cell", { name: path, exact: true }).first(), path).toBeVisible();
  }

  await client.dispose();
  await rangeClient.dispose();
  expect(errors).toEqual([]);
});

import { expect, test } from "./support/test";
import { expectAccessible, screenshots, signIn, watchConsole } from "./support/browser";

/**
 * The console's insight pages in the browser (issue 9 §4 §10): an admin (ADMIN_EMAILS in
 * playwright.config.ts) changes the funnel's window and breakdown and sees the chart, table and
 * CSV link follow; verifies the audit chain; finds a waitlist entry whose formula-like note is
 * neutralised in the CSV export; and sees the feedback table. Each page passes axe.
 */
let clientSeq = 0;
test.beforeEach(async ({ context }) => {
  clientSeq += 1;
  await context.setExtraHTTPHeaders({ "x-forwarded-for": `198.18.11.${(clientSeq % 250) + 1}` });
});

test("funnel: window and breakdown selectors, the recharts chart, the table and the CSV link", async ({ page }) => {
  test.setTimeout(90_000);
  await signIn(page, "admin@e2e.test");
  const errors = watchConsole(page);
  await page.goto("/en/admin/funnel");
  await expect(page.getByRole("heading", { level: 1, name: "Funnel" })).toBeVisible();
  await expect(page.getByTestId("funnel-chart").locator("svg.recharts-surface:not([aria-label])")).toBeVisible();
  await expect(page.getByTestId("funnel-table").getByRole("rowheader", { name: "page_view" })).toBeVisible();

  await page.getByLabel("Window", { exact: true }).selectOption("30");
  await page.getByLabel("Breakdown", { exact: true }).selectOption("lang");
  await page.getByRole("button", { name: "Show" }).click();
  await expect(page).toHaveURL(/days=30/);
  await expect(page).toHaveURL(/by=lang/);
  await expect(page.getByRole("heading", { name: "By language" })).toBeVisible();
  const csvLink = page.getByRole("link", { name: "Download CSV" });
  await expect(csvLink).toHaveAttribute("href", "/api/admin/funnel.csv?days=30&by=lang");

  const csv = await page.request.get("/api/admin/funnel.csv?days=30&by=lang");
  expect(csv.status()).toBe(200);
  expect(csv.headers()["content-type"]).toMatch(/^text\/csv/);
  expect((await csv.text()).split("\r\n")[0]).toBe(
    "segment,event,count,uniqueUsers,uniqueSessions,conversionVisitors,conversionConverted,conversionRate",
  );
  await page.waitForLoadState("networkidle");
  await expectAccessible(page);
  await screenshots(page, "admin-insights-funnel-by-lang");
  expect(errors).toEqual([]);
});

test("audit log: verify the chain, filter, and the CSV export form", async ({ page }) => {
  test.setTimeout(90_000);
  await signIn(page, "admin@e2e.test");
  const errors = watchConsole(page);
  await page.goto("/en/admin/audit");
  await expect(page.getByRole("heading", { level: 1, name: "Audit log" })).toBeVisible();
  await page.getByRole("button", { name: "Verify chain" }).click();
  await expect(page.getByTestId("verify-status")).toContainText("The chain is intact");

  await page.getByLabel("Action (or a prefix such as blocklist)").fill("blocklist");
  await page.getByRole("button", { name: "Show" }).click();
  await expect(page).toHaveURL(/action=blocklist/);
  await expect(page.getByTestId("audit-table")).toBeVisible();

  const today = new Date().toISOString().slice(0, 10);
  const tomorrow = new Date(Date.now() + 86_400_000).toISOString().slice(0, 10);
  const csv = await page.request.get(`/api/admin/audit.csv?from=${today}&to=${tomorrow}`);
  expect(csv.status()).toBe(200);
  expect((await csv.text()).split("\r\n")[0]).toBe("id,createdAt,actorId,actorEmail,action,target,before,after,ip,requestId,prevHash,hash");
  await expectAccessible(page);
  await screenshots(page, "admin-insights-audit");
  expect(errors).toEqual([]);
});

test("wishlist and feedback: tables and CSV exports, formula cells neutralised", async ({ page }) => {
  test.setTimeout(90_000);
  const email = `insights-${Date.now()}@e2e.test`;
  const joined = await page.request.post("/api/wishlist", { data: { email, note: '=HYPERLINK("http://evil.example","x")', lang: "en" } });
  expect(joined.status()).toBe(200);

  await signIn(page, "admin@e2e.test");
  const errors = watchConsole(page);
  await page.goto("/en/admin/wishlist");
  await expect(page.getByRole("heading", { level: 1, name: "Wishlist" })).toBeVisible();
  await expect(page.getByTestId("wishlist-table").getByRole("rowheader", { name: email })).toBeVisible();
  await expect(page.getByRole("link", { name: "Download CSV" })).toHaveAttribute("href", "/api/admin/wishlist.csv");
  const csv = await (await page.request.get("/api/admin/wishlist.csv")).text();
  expect(csv).toContain(`${email},"'=HYPERLINK(""http://evil.example"",""x"")"`);
  await expectAccessible(page);
  await screenshots(page, "admin-insights-wishlist");

  await page.goto("/en/admin/feedback");
  await expect(page.getByRole("heading", { level: 1, name: "Feedback" })).toBeVisible();
  await expect(page.getByTestId("feedback-table")).toBeVisible();
  const feedback = await page.request.get("/api/admin/feedback.csv");
  expect(feedback.status()).toBe(200);
  expect((await feedback.text()).split("\r\n")[0]).toBe("id,generationId,userId,guest,rating,comment,createdAt,updatedAt");
  await expectAccessible(page);
  await screenshots(page, "admin-insights-feedback");
  expect(errors).toEqual([]);
});

import { mkdirSync } from "node:fs";
import type { Page } from "@playwright/test";
import { expect, test } from "./support/test";
import { expectAccessible, signIn, watchConsole } from "./support/browser";

/**
 * The operations, generations and database pages in the browser: an admin forces the breaker
 * open from the operations page (a generation then gets 503 upstream_unavailable), resets it,
 * flushes the caption cache, runs retention, sweeps stuck generations and reads the database
 * checks. Screenshots: e2e/.artifacts/admin-operations.png, admin-generations.png, admin-database.png.
 */

let clientSeq = 0;
test.beforeEach(async ({ context }) => {
  clientSeq += 1;
  await context.setExtraHTTPHeaders({ "x-forwarded-for": `198.18.11.${(clientSeq % 250) + 1}` });
});

async function generate(page: Page, text: string): Promise<{ status: number; code?: string }> {
  const origin = new URL(page.url()).origin;
  const res = await page.request.post("/api/generate", { data: { text, mode: "standard", lang: "en" }, headers: { origin } });
  const body = (await res.json().catch(() => null)) as { error?: { code?: string } } | null;
  return { status: res.status(), code: body?.error?.code };
}

test("an admin forces the breaker open and resets it, flushes the cache and runs retention from the operations page", async ({ page }) => {
  test.setTimeout(120_000);
  mkdirSync("e2e/.artifacts", { recursive: true });
  const errors = watchConsole(page);
  await signIn(page, "admin@e2e.test");

  await page.goto("/en/admin/operations");
  await expect(page.getByRole("heading", { level: 1, name: "Operations" })).toBeVisible();
  const state = page.getByTestId("breaker-state");
  await expect(state).toHaveText("closed");
  // A generation to fill the cache.
  expect((await generate(page, `operations page ${Date.now()}`)).status).toBe(200);

  // Force open for 120 s: the page says so, and a generation is refused without the model.
  await page.getByLabel("Force open for (seconds)").fill("120");
  await page.getByRole("button", { name: "Force open" }).click();
  await expect(page.getByTestId("ops-breaker").getByRole("status")).toContainText("The breaker is open until");
  await expect(state).toHaveText("open");
  expect(await generate(page, `while open ${Date.now()}`)).toEqual({ status: 503, code: "upstream_unavailable" });
  await expectAccessible(page);
  await page.screenshot({ path: "e2e/.artifacts/admin-operations.png", fullPage: true });
  await page.setViewportSize({ width: 390, height: 844 });
  expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
  await page.setViewportSize({ width: 1280, height: 900 });

  await page.getByRole("button", { name: "Reset" }).click();
  await expect(state).toHaveText("closed");
  expect((await generate(page, `after reset ${Date.now()}`)).status).toBe(200);

  // Flush the cache (asks first).
  await page.reload();
  const keys = Number(await page.getByTestId("cache-keys").textContent());
  expect(keys).toBeGreaterThan(0);
  await page.getByRole("button", { name: "Flush cache" }).click();
  await page.getByRole("button", { name: "Yes, flush cache" }).click();
  await expect(page.getByTestId("ops-cache").getByRole("status")).toContainText("deleted");
  await expect(page.getByTestId("cache-keys")).toHaveText("0");

  // Run retention (asks first).
  await page.getByRole("button", { name: "Run retention" }).click();
  await page.getByRole("button", { name: "Yes, run retention" }).click();
  await expect(page.getByTestId("ops-retention").getByRole("status")).toContainText("Removed");

  // Generations: the stuck list and the sweep.
  await page.goto("/en/admin/generations");
  await expect(page.getByRole("heading", { level: 1, name: "Generations" })).toBeVisible();
  await expect(page.getByTestId("generations-table").locator("tbody tr").first()).toBeVisible();
  await page.getByRole("button", { name: "Sweep stuck generations" }).click();
  await expect(page.getByTestId("generations-stuck").getByRole("status")).toContainText("marked failed");
  // The sweep then refreshes the page's server data, the streamed title included (swapped out and
  // back in): axe reads a freshly loaded page instead of racing that refresh.
  await page.reload();
  await expect(page.getByRole("heading", { level: 1, name: "Generations" })).toBeVisible();
  await expectAccessible(page);
  await page.screenshot({ path: "e2e/.artifacts/admin-generations.png", fullPage: true });

  // Database: the four checks (the two session checks are marked unavailable on PGlite).
  await page.goto("/en/admin/database");
  await expect(page.getByRole("heading", { level: 1, name: "Database" })).toBeVisible();
  for (const id of ["db-connections", "db-long-queries", "db-table-sizes", "db-index-usage"]) await expect(page.getByTestId(id)).toBeVisible();
  await expect(page.getByTestId("db-table-sizes").getByRole("rowheader", { name: "generations", exact: true })).toBeVisible();
  await expectAccessible(page);
  await page.screenshot({ path: "e2e/.artifacts/admin-database.png", fullPage: true });

  expect(errors).toEqual([]);
});

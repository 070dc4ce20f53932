import { mkdirSync } from "node:fs";
import type { Page } from "@playwright/test";
import { expect, test } from "./support/test";
import { expectAccessible, signIn, watchConsole } from "./support/browser";

/**
 * Issue 9, browser test 1: an admin signs in, sees the overview with its charts, forces the
 * breaker open, sees the alert firing (and the overview pick it up on its own refresh), then
 * resets it. Screenshots: e2e/.artifacts/admin-overview.png and e2e/.artifacts/admin-alerts.png.
 */

let clientSeq = 0;
test.beforeEach(async ({ context }) => {
  clientSeq += 1;
  await context.setExtraHTTPHeaders({ "x-forwarded-for": `198.18.9.${(clientSeq % 250) + 1}` });
});

async function breaker(page: Page, body: object): Promise<void> {
  const origin = new URL(page.url()).origin;
  const res = await page.request.post("/api/admin/breaker", { data: body, headers: { origin } });
  expect(res.status(), await res.text()).toBe(200);
}

test("an admin sees the overview with its charts, forces the breaker open, sees the alert firing, then resets it", async ({ page }) => {
  test.setTimeout(120_000);
  mkdirSync("e2e/.artifacts", { recursive: true });
  const errors = watchConsole(page);
  await signIn(page, "admin@e2e.test");

  // Some traffic for the charts (the series is flushed every 5 s).
  for (let i = 0; i < 5; i++) expect((await page.request.get("/api/quota")).status()).toBe(200);

  await page.goto("/en/admin");
  await expect(page.getByRole("heading", { level: 1, name: "Overview" })).toBeVisible();
  await expect(page.getByTestId("stat-breaker")).toContainText("Closed");
  for (const chart of ["chart-requests", "chart-latency"]) {
    await expect(page.getByTestId(chart)).toHaveAttribute("role", "img");
    await expect(page.getByTestId(chart).locator("svg.recharts-surface").first()).toBeVisible();
  }
  await expect(page.getByText("The charts' data as a table")).toBeVisible();
  await expectAccessible(page);
  await page.screenshot({ path: "e2e/.artifacts/admin-overview.png", fullPage: true });
  await page.setViewportSize({ width: 390, height: 844 });
  await page.screenshot({ path: "e2e/.artifacts/admin-overview-390.png", fullPage: true });
  // Readable on a phone: nothing wider than the viewport.
  expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
  await page.setViewportSize({ width: 1280, height: 900 });

  // Force the breaker open (POST /api/admin/breaker, audited): the overview shows it on its own 15 s refresh.
  await breaker(page, { action: "force-open", seconds: 60 });
  await expect(page.getByTestId("stat-breaker")).toContainText("Open", { timeout: 25_000 });

  await page.goto("/en/admin/alerts");
  await expect(page.getByRole("heading", { level: 1, name: "Alerts" })).toBeVisible();
  const rows = page.getByTestId("alerts-table").locator("tbody tr");
  await expect(rows).toHaveCount(8);
  const breakerRow = page.getByTestId("alert-breaker_open");
  await expect(breakerRow).toHaveAttribute("data-state", "firing");
  await expect(breakerRow.getByText("firing", { exact: true })).toBeVisible();
  await expect(page.getByTestId("alert-database_unreachable")).toHaveAttribute("data-state", "ok");
  await expectAccessible(page);
  await page.screenshot({ path: "e2e/.artifacts/admin-alerts.png", fullPage: true });

  const api = (await (await page.request.get("/api/admin/alerts")).json()) as { alerts: { id: string; state: string; since: string | null }[] };
  expect(api.alerts.find((a) => a.id === "breaker_open")).toMatchObject({ state: "firing" });

  await breaker(page, { action: "reset" });
  await page.reload();
  await expect(page.getByTestId("alert-breaker_open")).toHaveAttribute("data-state", "ok");
  await page.goto("/en/admin");
  await expect(page.getByTestId("stat-breaker")).toContainText("Closed");
  expect(errors).toEqual([]);
});

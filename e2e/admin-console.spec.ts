import type { Page } from "@playwright/test";
import { expect, test } from "./support/test";
import { CONSOLE_PAGES } from "../lib/admin/console-pages";
import { expectAccessible, screenshots, signIn, watchConsole } from "./support/browser";
import { e2eDatabaseUrl, queryE2e } from "./support/db";

/** Buttons that change something: a moderator must see none of them. */
const WRITE_BUTTON = /block|unblock|remove|delete|sweep|reset|force|flush|grant|save|disable|enable|run retention|apply|set /i;

let clientSeq = 0;
test.beforeEach(async ({ context }) => {
  clientSeq += 1;
  await context.setExtraHTTPHeaders({ "x-forwarded-for": `198.18.7.${(clientSeq % 250) + 1}` });
});

async function visitEveryPage(page: Page, role: string): Promise<Record<string, number>> {
  const writes: Record<string, number> = {};
  for (const section of CONSOLE_PAGES) {
    const errors = watchConsole(page);
    const response = await page.goto(`/en/admin${section.path}`);
    expect(response?.status(), section.title).toBe(200);
    await expect(page.getByRole("heading", { level: 1 })).toBeVisible();
    await page.waitForLoadState("networkidle");
    await expectAccessible(page);
    await screenshots(page, `admin-${role}-${section.path.slice(1) || "overview"}`);
    writes[section.title] = await page.getByRole("button", { name: WRITE_BUTTON }).count();
    expect(errors, section.title).toEqual([]);
  }
  return writes;
}

test("an admin sees every console page, accessible, with its write controls", async ({ page }) => {
  test.setTimeout(180_000);
  await signIn(page, "admin@e2e.test");
  const writes = await visitEveryPage(page, "admin");
  // The pages that act have their buttons for an admin.
  for (const title of ["Blocklist", "Operations", "Generations"]) expect(writes[title], title).toBeGreaterThan(0);
});

test("a moderator sees every console page without a write button", async ({ page }) => {
  test.skip(!e2eDatabaseUrl(), "needs the PostgreSQL e2e database to make a moderator");
  test.setTimeout(180_000);
  const userId = await signIn(page, "moderator@e2e.test");
  await queryE2e(`update litstatus.profiles set role = 'moderator' where user_id = $1`, [userId]);
  const writes = await visitEveryPage(page, "moderator");
  expect(Object.entries(writes).filter(([, count]) => count > 0)).toEqual([]);
});

test("anyone else gets the 404 page at /admin", async ({ page }) => {
  expect((await page.goto("/en/admin"))?.status()).toBe(404);
  await signIn(page, "plain-user@e2e.test");
  expect((await page.goto("/en/admin/users"))?.status()).toBe(404);
});

import type { Page } from "@playwright/test";
import { expect, test } from "./support/test";
import { expectAccessible, screenshots, signIn, watchConsole } from "./support/browser";
import { e2eDatabaseUrl, queryE2e } from "./support/db";

// Each test signs in and walks several pages with axe checks and screenshots: on CI's two busy
// cores the longest journey took 35 s, over the suite's 30 s default.
test.describe.configure({ timeout: 90_000 });

let clientSeq = 0;
test.beforeEach(async ({ context }, testInfo) => {
  clientSeq += 1;
  await context.setExtraHTTPHeaders({ "x-forwarded-for": `198.19.${testInfo.workerIndex % 100}.${(clientSeq % 250) + 1}` });
});

async function generate(page: Page, text: string): Promise<string> {
  await page.getByLabel("What's your post about?").fill(text);
  await page.getByRole("button", { name: "Generate", exact: true }).click();
  await expect(page.getByTestId("caption")).toContainText(text.slice(0, 20));
  return (await page.getByTestId("caption").textContent()) ?? "";
}

test("a user signs in with the logged link, generates, sees history, deletes one, switches to Chinese", async ({ page }) => {
  const errors = watchConsole(page);
  const email = `e2e-${Date.now()}@example.test`;
  const userId = await signIn(page, email);

  await page.goto("/");
  await expect(page.getByTestId("quota-meter")).toContainText("20 of 20 left today");
  await generate(page, "morning run along the river");
  await expect(page.getByTestId("quota-meter")).toContainText("19 of 20 left today");
  await generate(page, "homemade ramen night");

  await page.goto("/history");
  await expect(page.getByText("2 captions")).toBeVisible();
  await expect(page.getByText("You wrote homemade ramen night")).toBeVisible();
  await expectAccessible(page);
  await screenshots(page, "history-user");

  const first = page.getByRole("listitem").filter({ hasText: "homemade ramen night" });
  await first.getByRole("button", { name: "Delete this caption" }).click();
  await page.getByRole("button", { name: "Yes, delete" }).click();
  await expect(page.getByText("Caption deleted.")).toBeVisible();
  await expect(page.getByText("homemade ramen night")).toHaveCount(0);
  if (e2eDatabaseUrl()) {
    const rows = await queryE2e<{ text: string }>("select input_text as text from litstatus.generations where user_id = $1", [userId]);
    expect(rows).toEqual([{ text: "morning run along the river" }]);
  }

  await page.getByRole("link", { name: "中文" }).click();
  await expect(page).toHaveURL(/\/zh\/history$/);
  await expect(page.locator("html")).toHaveAttribute("lang", "zh-CN");
  await expect(page.getByRole("heading", { level: 1 })).not.toHaveText("Your captions");
  await expectAccessible(page);
  await screenshots(page, "history-user-zh");

  await page.goto("/account");
  await expect(page.getByText(email)).toBeVisible();
  await expectAccessible(page);
  await screenshots(page, "account");
  expect(errors).toEqual([]);
});

test("the Pro waitlist deduplicates by email", async ({ page }) => {
  const errors = watchConsole(page);
  const email = `wait-${Date.now()}@example.test`;
  await page.goto("/pricing");
  await expectAccessible(page);
  await screenshots(page, "pricing");
  await page.getByLabel("Email", { exact: true }).fill(email);
  await page.getByRole("button", { name: "Join the waitlist" }).click();
  await expect(page.getByText("You're on the list")).toBeVisible();

  await page.goto("/pricing");
  await page.getByLabel("Email", { exact: true }).fill(email.toUpperCase());
  await page.getByRole("button", { name: "Join the waitlist" }).click();
  await expect(page.getByText(/You were already on the list/)).toBeVisible();
  if (e2eDatabaseUrl()) {
    const rows = await queryE2e<{ n: number }>("select count(*)::int as n from litstatus.pro_wishlist where lower(email) = $1", [email]);
    expect(rows[0]?.n).toBe(1);
  }
  expect(errors).toEqual([]);
});

test("deleting the account removes the user's data", async ({ page }) => {
  const errors = watchConsole(page);
  const email = `delete-${Date.now()}@example.test`;
  const userId = await signIn(page, email);
  await page.goto("/");
  await generate(page, "last caption before leaving");

  await page.goto("/account");
  await page.getByLabel("Type DELETE to confirm").fill("DELETE");
  await page.getByRole("button", { name: "Delete my account" }).click();
  await expect(page).toHaveURL(/\/en(\?.*)?$/);
  await expect(page.getByRole("link", { name: "Sign in" })).toBeVisible();
  const session = (await (await page.request.get("/api/auth/session")).json()) as { viewer: { kind: string } };
  expect(session.viewer.kind).toBe("guest");
  if (e2eDatabaseUrl()) {
    for (const table of ["litstatus.profiles", "litstatus.generations", "litstatus.usage_daily", "litstatus.usage_ledger"]) {
      const rows = await queryE2e(`select 1 from ${table} where user_id = $1`, [userId]);
      expect(rows, table).toEqual([]);
    }
    expect(await queryE2e("select 1 from auth.users where id = $1", [userId])).toEqual([]);
  }
  expect(errors).toEqual([]);
});

test("sign-in page and the localized 404 are accessible", async ({ page }) => {
  const errors = watchConsole(page);
  await page.goto("/signin");
  await expectAccessible(page);
  await screenshots(page, "signin");
  await page.goto("/zh/signin");
  await expectAccessible(page);
  const missing = await page.goto("/zh/nope");
  expect(missing?.status()).toBe(404);
  await expect(page.locator("html")).toHaveAttribute("lang", "zh-CN");
  await expectAccessible(page);
  expect(errors.filter((e) => !e.includes("404"))).toEqual([]);
});

import { expect, test } from "./support/test";
import { expectAccessible, screenshots, signIn, watchConsole } from "./support/browser";

/**
 * The users console in the browser: an admin (ADMIN_EMAILS in playwright.config.ts) finds a user
 * by email, grants credits with a reason, makes them Pro, disables the account (the user's
 * session is refused with 403 account_disabled and the account page renders them signed out),
 * enables it again (the old session stays ended) and finally deletes the user with a typed
 * confirmation. Each browser context plays one person from its own address.
 */
let seq = 0;
test.beforeEach(async ({ context }) => {
  seq += 1;
  await context.setExtraHTTPHeaders({ "x-forwarded-for": `198.18.11.${(seq % 250) + 1}` });
});

test("an admin searches, grants credits, changes the plan, disables, enables and deletes a user", async ({ page, browser, baseURL }) => {
  test.setTimeout(120_000);
  const errors = watchConsole(page);
  const email = `console-user-${Date.now()}@e2e.test`;

  // The user signs in (creating the account) in their own browser.
  const userContext = await browser.newContext({ baseURL, extraHTTPHeaders: { "x-forwarded-for": "198.18.12.7" } });
  const userPage = await userContext.newPage();
  const userId = await signIn(userPage, email);
  expect((await userContext.request.get("/api/me")).status()).toBe(200);

  await signIn(page, "admin@e2e.test");
  await page.goto("/en/admin/users");
  await page.getByLabel("Email contains").fill(email.toUpperCase());
  await page.getByRole("button", { name: "Search" }).click();
  const results = page.getByTestId("users-table");
  await expect(results.getByRole("link", { name: email })).toBeVisible();
  await expect(page.getByTestId("users-count")).toHaveText("1 user");
  await expectAccessible(page);
  await screenshots(page, "admin-users");

  await results.getByRole("link", { name: email }).click();
  await expect(page).toHaveURL(new RegExp(`/en/admin/users/${userId}$`));
  await expect(page.getByRole("heading", { level: 1, name: email })).toBeVisible();

  // Credits: a ledger entry with its reason.
  await page.getByLabel("Credits", { exact: true }).fill("3");
  await page.getByLabel("Reason").fill("e2e goodwill");
  await page.getByRole("button", { name: "Grant credits" }).click();
  await expect(page.getByText("Done: the user now has 3 credits.")).toBeVisible();
  await expect(page.getByTestId("user-credits")).toHaveText("3");
  await expect(page.getByTestId("user-ledger").getByRole("row").filter({ hasText: "e2e goodwill" })).toContainText("Credit grant");

  // Plan.
  await page.getByLabel("Plan", { exact: true }).selectOption("pro");
  await page.getByRole("button", { name: "Save plan and role" }).click();
  await expect(page.getByTestId("user-plan")).toHaveText("Pro");
  await expectAccessible(page);
  await screenshots(page, "admin-user");

  // Disable: the user's session is refused everywhere, and pages render them signed out.
  await page.getByRole("button", { name: "Disable account" }).click();
  await expect(page.getByTestId("user-status")).toContainText("Disabled");
  const refused = await userContext.request.get("/api/me");
  expect(refused.status()).toBe(403);
  expect(((await refused.json()) as { error: { code: string } }).error.code).toBe("account_disabled");
  await userPage.goto("/en/account");
  await expect(userPage).toHaveURL(/\/en\/signin/);

  // Enable: the account works again, but the old session stays ended.
  await page.getByRole("button", { name: "Enable account" }).click();
  await expect(page.getByTestId("user-status")).toHaveText("Active");
  expect((await userContext.request.get("/api/me")).status()).toBe(401);

  // Delete, with the typed confirmation.
  await page.getByRole("button", { name: "Delete user" }).click();
  await expect(page.getByText(`Type ${email} to confirm.`, { exact: true })).toBeVisible();
  await page.getByLabel(/to confirm/).fill(email);
  await page.getByRole("button", { name: "Delete user" }).click();
  await expect(page).toHaveURL(/\/en\/admin\/users$/);
  await page.goto(`/en/admin/users?q=${encodeURIComponent(email)}`);
  await expect(page.getByTestId("users-count")).toHaveText("0 users");

  await userContext.close();
  expect(errors).toEqual([]);
});

import { expect, test } from "./support/test";
import { expectAccessible, screenshots, watchConsole } from "./support/browser";

// Each test is its own "client address" (the trusted X-Forwarded-For hop), so guest quotas
// never leak between tests.
let clientSeq = 0;
test.beforeEach(async ({ context }, testInfo) => {
  clientSeq += 1;
  await context.setExtraHTTPHeaders({ "x-forwarded-for": `198.18.${testInfo.workerIndex % 100}.${(clientSeq % 250) + 1}` });
});

test("a guest generates, copies, rates, and hits the daily quota with the reset time", async ({ page, context }) => {
  await context.grantPermissions(["clipboard-read", "clipboard-write"]);
  const errors = watchConsole(page);
  await page.goto("/");
  await expect(page.getByRole("heading", { level: 1 })).toBeVisible();
  await expect(page.getByTestId("quota-meter")).toContainText("3 of 3 left today");
  await expect(page.getByTestId("quota-meter")).toContainText(/resets in \d+/);

  const text = page.getByLabel("What's your post about?");
  await text.fill("golden hour picnic with my best friends");
  await expect(page.getByTestId("char-count")).toHaveText("39 / 2000");
  await page.locator("label", { hasText: "Savage" }).click();
  await expect(page.getByRole("radio", { name: /Savage/ })).toBeChecked();
  // Layout shift while the result arrives: measured, not guessed.
  await page.evaluate(() => {
    const w = window as unknown as { __cls: number };
    w.__cls = 0;
    new PerformanceObserver((list) => {
      for (const entry of list.getEntries() as (PerformanceEntry & { value: number; hadRecentInput: boolean })[]) {
        if (!entry.hadRecentInput) w.__cls += entry.value;
      }
    }).observe({ type: "layout-shift", buffered: false });
  });
  await page.getByRole("button", { name: "Generate", exact: true }).click();

  const caption = page.getByTestId("caption");
  await expect(caption).toContainText("Fake caption");
  expect(await page.evaluate(() => (window as unknown as { __cls: number }).__cls)).toBeLessThan(0.05);
  await expect(page.getByTestId("hashtags").getByRole("listitem").first()).toHaveText(/^#/);
  await expect(page.getByTestId("quota-meter")).toContainText("2 of 3 left today");

  await page.getByRole("button", { name: "Copy caption" }).click();
  await expect(page.getByRole("button", { name: "Copied!" })).toBeVisible();
  expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(await caption.textContent());
  await page.getByRole("button", { name: "Copy all" }).click();
  expect(await page.evaluate(() => navigator.clipboard.readText())).toContain("#");

  const feedback = page.waitForResponse((r) => r.url().endsWith("/api/feedback"));
  await page.getByRole("button", { name: "Good caption" }).click();
  expect((await feedback).status()).toBe(200);
  await expect(page.getByText("Thanks for the feedback!")).toBeVisible();

  // Keyboard: Ctrl+Enter generates.
  await text.fill("second caption request");
  await text.press("Control+Enter");
  await expect(page.getByTestId("quota-meter")).toContainText("1 of 3 left today");
  await text.fill("third caption request");
  await page.getByRole("button", { name: "Generate", exact: true }).click();
  await expect(page.getByTestId("quota-meter")).toContainText("0 of 3 left today");
  await expect(page.getByTestId("recent").getByRole("listitem")).toHaveCount(3);

  // Used up: the sign-up offer takes the Generate button's place, with the reset time beside it.
  await expect(page.getByRole("button", { name: "Generate", exact: true })).toHaveCount(0);
  await expect(page.getByRole("link", { name: "Sign up free for 20 a day" })).toBeVisible();
  await expect(page.getByTestId("quota-meter")).toContainText(/resets in \d+/);
  // And the server agrees: a fourth request from this client is refused.
  const fourth = await page.request.post("/api/generate", {
    data: { text: "fourth caption request", mode: "standard", lang: "en" },
    headers: { origin: new URL(page.url()).origin },
  });
  expect(fourth.status()).toBe(429);

  await expectAccessible(page);
  await screenshots(page, "generator-guest-result");
  // The 429 of the quota-exceeded call is the expected answer; Chromium logs every non-2xx fetch.
  expect(errors.filter((e) => !e.includes("status of 429"))).toEqual([]);
});

test("an over-long text is counted and blocked before it is sent", async ({ page }) => {
  await page.goto("/");
  await page.getByLabel("What's your post about?").fill("a".repeat(2001));
  await expect(page.getByTestId("char-count")).toHaveText("2001 / 2000");
  await expect(page.getByRole("button", { name: "Generate", exact: true })).toBeDisabled();
  await expect(page.getByText("Keep it under 2000 characters.")).toBeVisible();
});

test("the generator in Chinese: lang attribute, strings and caption language default", async ({ page }) => {
  const errors = watchConsole(page);
  await page.goto("/zh");
  await expect(page.locator("html")).toHaveAttribute("lang", "zh-CN");
  await expect(page.getByRole("heading", { level: 1 })).toHaveText("帮我写文案");
  await expect(page.getByLabel("文案语言")).toHaveValue("zh");
  await expectAccessible(page);
  await screenshots(page, "generator-zh");
  expect(errors).toEqual([]);
});

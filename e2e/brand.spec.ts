import type { Locator, Page } from "@playwright/test";
import { expect, test } from "./support/test";
import { mkdirSync } from "node:fs";
import { expectAccessible, signIn, watchConsole } from "./support/browser";

// Each test is its own "client address" (the trusted X-Forwarded-For hop), so quotas and rate
// limits never leak between tests.
let clientSeq = 0;
test.beforeEach(async ({ context }, testInfo) => {
  clientSeq += 1;
  await context.setExtraHTTPHeaders({ "x-forwarded-for": `198.20.${testInfo.workerIndex % 100}.${(clientSeq % 250) + 1}` });
});

const LOCALES = ["en", "zh"] as const;
const SIZES = [
  { width: 1280, height: 900 },
  { width: 390, height: 844 },
] as const;
const PHONE = SIZES[1];
const NAMES = {
  en: { menu: "Menu", history: "History", pricing: "Pricing", signUpFree: "Sign up free" },
  zh: { menu: "菜单", history: "历史", pricing: "价格", signUpFree: "免费注册" },
} as const;

/** axe at desktop and phone widths, each with a full-page screenshot `<name>-<width>-<locale>.png`. */
async function checkSizes(page: Page, name: string, locale: string): Promise<void> {
  mkdirSync("e2e/.artifacts/screenshots", { recursive: true });
  for (const size of SIZES) {
    await page.setViewportSize(size);
    await expectAccessible(page);
    await page.screenshot({ path: `e2e/.artifacts/screenshots/${name}-${size.width}-${locale}.png`, fullPage: true });
  }
  await page.setViewportSize(SIZES[0]);
}

/** How many lines an element's text takes (one client rect per line box). */
function lineCount(locator: Locator): Promise<number> {
  return locator.evaluate((el) => {
    const range = document.createRange();
    range.selectNodeContents(el);
    return new Set([...range.getClientRects()].filter((r) => r.width > 0).map((r) => Math.round(r.top))).size;
  });
}

test("favicon, robots.txt, sitemap and manifest answer with the right types and content", async ({ request }) => {
  const icon = await request.get("/favicon.ico");
  expect(icon.status()).toBe(200);
  expect(icon.headers()["content-type"]).toMatch(/image\/(x-icon|vnd\.microsoft\.icon)/);
  // An ICO file: reserved 0, type 1 (icon), at least one image.
  const head = (await icon.body()).subarray(0, 6);
  expect([head.readUInt16LE(0), head.readUInt16LE(2)]).toEqual([0, 1]);
  expect(head.readUInt16LE(4)).toBeGreaterThan(0);

  const apple = await request.get("/apple-icon.png");
  expect(apple.status()).toBe(200);
  expect(apple.headers()["content-type"]).toBe("image/png");

  const robots = await request.get("/robots.txt");
  expect(robots.status()).toBe(200);
  expect(robots.headers()["content-type"]).toContain("text/plain");
  const rules = await robots.text();
  expect(rules).toMatch(/^Allow: \/$/m);
  for (const path of ["/api/", "/admin", "/en/admin", "/zh/admin"]) expect(rules).toContain(`Disallow: ${path}\n`);
  expect(rules).toMatch(/^Sitemap: https?:\/\/\S+\/sitemap\.xml$/m);

  const sitemap = await request.get("/sitemap.xml");
  expect(sitemap.status()).toBe(200);
  expect(sitemap.headers()["content-type"]).toContain("xml");
  const locs = [...(await sitemap.text()).matchAll(/<loc>([^<]+)<\/loc>/g)].map((m) => new URL(m[1] ?? "").pathname);
  expect(locs.sort()).toEqual(["/en", "/en/pricing", "/zh", "/zh/pricing"]);

  const manifest = await request.get("/manifest.webmanifest");
  expect(manifest.status()).toBe(200);
  expect(manifest.headers()["content-type"]).toContain("application/manifest+json");
  const app = (await manifest.json()) as { name: string; icons: { src: string }[] };
  expect(app.name).toBe("LitStatus");
  for (const { src } of app.icons) expect((await request.get(src)).status(), src).toBe(200);
});

test("every page carries Open Graph and Twitter card tags, in its language", async ({ page, request }) => {
  for (const locale of LOCALES) {
    for (const path of [`/${locale}`, `/${locale}/pricing`]) {
      await page.goto(path);
      const meta = (key: string) => page.locator(`meta[property="${key}"], meta[name="${key}"]`).first().getAttribute("content");
      expect(await meta("og:title"), path).toBeTruthy();
      expect(await meta("og:description"), path).toBeTruthy();
      expect(await meta("og:locale")).toBe(locale === "zh" ? "zh_CN" : "en_US");
      expect(await meta("og:image:width")).toBe("1200");
      expect(await meta("og:image:height")).toBe("630");
      expect(await meta("twitter:card")).toBe("summary_large_image");
      const image = await meta("og:image");
      expect(image).toMatch(/^https?:\/\//);
      const answer = await request.get(new URL(image ?? "").pathname);
      expect(answer.status()).toBe(200);
      expect(answer.headers()["content-type"]).toBe("image/png");
    }
  }
  await page.goto("/zh");
  await expect(page.locator('meta[property="og:title"]')).toHaveAttribute("content", /每条动态/);
});

for (const locale of LOCALES) {
  test(`the phone header is one row and its menu opens and closes (${locale})`, async ({ page }) => {
    const errors = watchConsole(page);
    const names = NAMES[locale];
    await page.setViewportSize(PHONE);
    await page.goto(`/${locale}/pricing`);
    const menu = page.getByRole("button", { name: names.menu, exact: true });
    const brand = page.getByRole("link", { name: "LitStatus" });
    const history = page.getByRole("link", { name: names.history, exact: true });

    // One row: the brand and the button side by side, the header no taller than the button plus padding.
    const [brandBox, menuBox, headerBox] = await Promise.all([brand.boundingBox(), menu.boundingBox(), page.locator(".site-header").boundingBox()]);
    expect(brandBox && menuBox && headerBox).toBeTruthy();
    expect(Math.abs((brandBox?.y ?? 0) + (brandBox?.height ?? 0) / 2 - ((menuBox?.y ?? 0) + (menuBox?.height ?? 0) / 2))).toBeLessThan(4);
    expect(headerBox?.height ?? 999).toBeLessThan(72);
    await expect(menu).toHaveAttribute("aria-expanded", "false");
    await expect(menu).toHaveAttribute("aria-controls", "site-nav");
    await expect(history).toBeHidden();

    await menu.click();
    await expect(menu).toHaveAttribute("aria-expanded", "true");
    await expect(history).toBeVisible();
    await page.keyboard.press("Escape");
    await expect(menu).toHaveAttribute("aria-expanded", "false");
    await expect(history).toBeHidden();
    await expect(menu).toBeFocused();

    // Following a link closes it.
    await menu.click();
    await history.click();
    await expect(page).toHaveURL(new RegExp(`/${locale}/history$`));
    await expect(menu).toHaveAttribute("aria-expanded", "false");
    await expect(history).toBeHidden();

    // On a desktop the links are inline and the button is not there.
    await page.setViewportSize(SIZES[0]);
    await expect(menu).toBeHidden();
    await expect(page.getByRole("link", { name: names.pricing, exact: true })).toBeVisible();
    expect(errors).toEqual([]);
  });
}

test("pricing: plans stack on phones, Pro has a price, buttons stay on one line; accessible in both languages", async ({ page }) => {
  test.setTimeout(90_000); // two languages × two sizes of axe and screenshots
  const errors = watchConsole(page);
  for (const locale of LOCALES) {
    await page.goto(`/${locale}/pricing`);
    await expect(page.locator('[data-plan="pro"] .plan-price')).toHaveText(locale === "zh" ? "¥68/月" : "$9 / month");
    await checkSizes(page, "pricing", locale);

    await page.setViewportSize(PHONE);
    const cards = page.getByTestId("plans").locator(":scope > li");
    await expect(cards).toHaveCount(3);
    const boxes = await Promise.all([0, 1, 2].map((i) => cards.nth(i).boundingBox()));
    // One column: the same left edge, each card below the last, nearly the page's width.
    expect(new Set(boxes.map((b) => Math.round(b?.x ?? -1))).size).toBe(1);
    expect((boxes[1]?.y ?? 0) > (boxes[0]?.y ?? 0) && (boxes[2]?.y ?? 0) > (boxes[1]?.y ?? 0)).toBe(true);
    expect(boxes[0]?.width ?? 0).toBeGreaterThan(PHONE.width - 60);
    const signUp = page.getByRole("link", { name: NAMES[locale].signUpFree, exact: true });
    expect(await lineCount(signUp)).toBe(1);
    // The waitlist card fills its row.
    const [waitlist, grid] = await Promise.all([page.locator("#waitlist").boundingBox(), page.getByTestId("plans").boundingBox()]);
    expect(Math.abs((waitlist?.width ?? 0) - (grid?.width ?? 0))).toBeLessThan(2);
    await page.setViewportSize(SIZES[0]);
  }
  const [waitlist, grid] = await Promise.all([page.locator("#waitlist").boundingBox(), page.getByTestId("plans").boundingBox()]);
  expect(Math.abs((waitlist?.width ?? 0) - (grid?.width ?? 0))).toBeLessThan(2);
  expect(errors).toEqual([]);
});

test("signing in confirms who is signed in; the account page explains usage and is accessible", async ({ page }) => {
  test.setTimeout(90_000); // sign-in, a caption, then two languages × two sizes of axe and screenshots
  const errors = watchConsole(page);
  const email = `brand-${Date.now()}-with-a-rather-long-local-part@example.test`;
  await signIn(page, email);
  // The link landed with the flag: a dismissible confirmation, and the flag left the address.
  const toast = page.getByTestId("signed-in-toast");
  await expect(toast).toHaveAttribute("role", "status");
  await expect(toast).toContainText(`You're signed in as ${email}`);
  await expect(page).not.toHaveURL(/signed_in/);
  await toast.getByRole("button", { name: "Dismiss" }).click();
  await expect(toast).toHaveCount(0);

  await page.goto("/account");
  await expect(page.getByTestId("signed-in-toast")).toHaveCount(0);
  await expect(page.getByTestId("usage-chart")).toHaveText("No captions in the last 14 days");
  await expect(page.getByTestId("cached-free")).toContainText("cached answer doesn't count");
  // One caption today (a text never asked before: a cached answer would not count): the chart
  // shows it on today's column.
  const status = await page.evaluate(
    async (text) =>
      (
        await fetch("/api/generate", {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ text, mode: "standard", lang: "en" }),
        })
      ).status,
    `sunday market haul ${Date.now()}`,
  );
  expect(status).toBe(200);
  await page.reload();
  await expect(page.locator(".usage-today")).toHaveAttribute("title", /1 caption$/);

  for (const locale of LOCALES) {
    await page.goto(`/${locale}/account`);
    const address = page.locator(".account-email");
    await expect(address).toHaveAttribute("title", email);
    await checkSizes(page, "account", locale);
    // At phone width the address wraps only before the "@": each part stays on one line.
    await page.setViewportSize(PHONE);
    for (const part of await address.locator(".email-part").all()) expect(await lineCount(part)).toBe(1);
    // "Member since" lines up with the other fields: every value starts at the same x.
    const values = await page.getByTestId("account-profile").locator("dd").all();
    const xs = await Promise.all(values.map(async (dd) => Math.round((await dd.boundingBox())?.x ?? -1)));
    expect(new Set(xs).size).toBe(1);
    await page.setViewportSize(SIZES[0]);
  }
  expect(errors).toEqual([]);
});

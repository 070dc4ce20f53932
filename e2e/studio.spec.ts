import { mkdirSync } from "node:fs";
import type { APIRequestContext, Page } from "@playwright/test";
import { expect, test } from "./support/test";
import { expectAccessible, signIn, watchConsole } from "./support/browser";
import { fakeOpenAiUrl } from "./support/slots";

/**
 * The caption studio (PRODUCT §3a, issue 10 §4): versions to pick from, editing before copying,
 * streaming, the phone layout, layout stability, favourites, accessibility and screenshots.
 */

// This worker's fake OpenAI server's control API (e2e/support/fake-openai.ts).
const FAKE_OPENAI = fakeOpenAiUrl();
const SCREENSHOTS = "e2e/.artifacts/screenshots";
const PHONE = { width: 390, height: 844 };
const DESKTOP = { width: 1280, height: 900 };

// Each test is its own client address (the trusted X-Forwarded-For hop): guest quotas never leak,
// not even between runs against a server that keeps its counters (RUN).
const RUN = Math.floor(Math.random() * 250);
let clientSeq = 0;
test.beforeEach(async ({ context }) => {
  clientSeq += 1;
  await context.setExtraHTTPHeaders({ "x-forwarded-for": `198.20.${RUN}.${(clientSeq % 250) + 1}` });
});

async function fakeBehaviour(request: APIRequestContext, behaviour: Record<string, unknown>): Promise<void> {
  const res = await request.post(`${FAKE_OPENAI}/__control/behaviour`, { data: behaviour });
  expect(res.ok()).toBe(true);
}

test.afterEach(async ({ request }) => {
  await fakeBehaviour(request, { streamChunkDelayMs: 0 });
});

const generateButton = (page: Page) => page.getByRole("button", { name: "Generate", exact: true });

/** Types the description, again if the page was not interactive yet (a fill before hydration is lost). */
async function describe(page: Page, text: string): Promise<void> {
  const box = page.getByRole("textbox", { name: /What's your post about\?|你的帖子是关于什么的？/ });
  await expect(async () => {
    await box.fill(text);
    await expect(page.getByTestId("char-count")).toHaveText(new RegExp(`^${[...text].length} /`), { timeout: 1000 });
  }).toPass();
}

async function chooseVersions(page: Page, count: number): Promise<void> {
  await page.getByRole("group", { name: /Versions|版本数/ }).getByText(String(count), { exact: true }).click();
  await expect(page.getByRole("group", { name: /Versions|版本数/ }).getByRole("radio", { name: String(count), exact: true })).toBeChecked();
}

/** Generates and waits for the finished result (the picked version's caption, nothing still writing). */
async function generate(page: Page): Promise<void> {
  await page.locator("form").getByRole("button", { name: /^(Generate|生成)$/ }).click();
  await expect(page.getByTestId("caption")).toBeVisible({ timeout: 20_000 });
  await expect(page.locator("section[aria-busy='true']")).toHaveCount(0);
}

/** Sums layout shifts not caused by input, from now on (window.__cls). */
async function watchLayoutShift(page: Page): Promise<void> {
  await page.evaluate(() => {
    const w = window as unknown as { __cls: number };
    w.__cls = 0;
    new PerformanceObserver((list) => {
      for (const entry of list.getEntries() as (PerformanceEntry & { value: number; hadRecentInput: boolean })[]) {
        if (!entry.hadRecentInput) w.__cls += entry.value;
      }
    }).observe({ type: "layout-shift", buffered: false });
  });
}
const layoutShift = (page: Page) => page.evaluate(() => (window as unknown as { __cls: number }).__cls);

test("a guest picks the second of three versions, edits it, and copies exactly that", async ({ page, context }) => {
  await context.grantPermissions(["clipboard-read", "clipboard-write"]);
  // Funnel events go by fetch rather than sendBeacon here, so the test can read their bodies.
  await page.addInitScript(() => {
    Object.defineProperty(navigator, "sendBeacon", { value: () => false });
  });
  const errors = watchConsole(page);
  await page.goto("/");
  await describe(page, "golden hour picnic with my best friends");
  await page.getByLabel("Platform").selectOption("threads");
  await expect(page.getByLabel("Length")).toHaveValue("short"); // Threads' default length
  await chooseVersions(page, 3);
  await generate(page);

  const cards = page.getByTestId("variant");
  await expect(cards).toHaveCount(3);
  const hooks = await cards.evaluateAll((all) => all.map((card) => card.getAttribute("data-hook")));
  expect(new Set(hooks).size).toBe(3);
  for (let i = 0; i < 3; i++) {
    await expect(cards.nth(i).getByTestId("checks")).toBeVisible();
    await expect(cards.nth(i).getByRole("list", { name: "Hashtags" }).getByRole("listitem").first()).toHaveText(/^#/);
  }

  const second = page.getByRole("radio", { name: /^Version 2: / });
  await second.check();
  await expect(cards.nth(1)).toHaveAttribute("data-picked", "true");
  const original = (await cards.nth(1).getByTestId("caption").textContent()) ?? "";
  expect(original.length).toBeGreaterThan(0);

  await cards.nth(1).getByRole("button", { name: "Edit caption" }).click();
  const edited = `${original} See you at sunset!`;
  await page.getByRole("textbox", { name: "Edit caption" }).fill(edited);
  await page.getByRole("button", { name: "Done" }).click();
  await expect(page.getByTestId("caption")).toHaveText(edited);

  const event = page.waitForRequest((r) => r.url().endsWith("/api/events") && (r.postData() ?? "").includes('"copy_caption"'));
  await page.getByRole("button", { name: "Copy caption" }).click();
  await expect(page.getByRole("button", { name: "Copied!" })).toBeVisible();
  expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(edited);
  const body = JSON.parse((await event).postData() ?? "{}") as { variant?: string; meta?: Record<string, unknown> };
  expect(body.variant).toBe(hooks[1]);
  expect(body.meta).toEqual({ edited: true, variantIndex: 1, platform: "threads" });

  // Copy all adds the hashtags to the edited text.
  await page.getByRole("button", { name: /^Copy all/ }).click();
  const all = await page.evaluate(() => navigator.clipboard.readText());
  expect(all.startsWith(`${edited}\n\n#`)).toBe(true);

  // Regenerate: new versions, edits cleared.
  await page.getByRole("button", { name: /^Regenerate/ }).click();
  await expect(page.locator("section[aria-busy='true']")).toHaveCount(0);
  await expect(page.getByTestId("caption")).not.toHaveText(edited);
  await expect(page.getByTestId("variant").first()).toHaveAttribute("data-picked", "true");
  expect(errors).toEqual([]);
});

test("keywords are checked before anything is sent", async ({ page }) => {
  await page.goto("/");
  await describe(page, "first 10k run after a long break");
  const keywords = page.getByLabel("Keywords");
  await keywords.fill("run, 10k, comeback, morning, river, pace");
  await expect(page.getByText("Use at most 5 keywords.")).toBeVisible();
  await expect(generateButton(page)).toBeDisabled();
  await keywords.fill(`run, ${"x".repeat(31)}`);
  await expect(page.getByText("Keep each keyword under 30 characters.")).toBeVisible();
  await expect(generateButton(page)).toBeDisabled();
  await keywords.fill("run, comeback");
  await expect(generateButton(page)).toBeEnabled();
});

test("a guest out of captions sees the sign-up offer instead of Generate; recent has no duplicates", async ({ page }) => {
  await page.goto("/");
  await expect(page.getByTestId("quota-meter")).toContainText("3 of 3 left today");
  const unique = `${RUN}-${Date.now()}`;
  for (const text of ["homemade ramen night", "homemade ramen night", "new latte art", "rainy sunday reading"]) {
    await describe(page, `${text} ${unique}`);
    await generate(page);
  }
  // The repeated description was a cache hit: free, and listed once.
  await expect(page.getByTestId("quota-meter")).toContainText("0 of 3 left today");
  await expect(page.getByTestId("recent").getByRole("listitem")).toHaveCount(3);
  await expect(generateButton(page)).toHaveCount(0);
  const offer = page.getByRole("link", { name: "Sign up free for 20 a day" });
  await expect(offer).toBeVisible();
  await expect(offer).toHaveAttribute("href", /\/signin$/);
});

test("a signed-in user stars a caption and finds it under the Favourites filter", async ({ page }) => {
  test.setTimeout(60_000);
  const errors = watchConsole(page);
  await signIn(page, `studio-${Date.now()}@example.test`);
  await page.goto("/");
  await describe(page, "launching our small bakery's website");
  await generate(page);
  const caption = (await page.getByTestId("caption").textContent()) ?? "";

  const star = page.getByRole("button", { name: "Favourite", exact: true });
  await expect(star).toHaveAttribute("aria-pressed", "false");
  const saved = page.waitForResponse((r) => /\/api\/generations\/[^/]+\/favorite$/.test(r.url()) && r.request().method() === "POST");
  await star.click();
  expect((await saved).status()).toBe(200);
  await expect(star).toHaveAttribute("aria-pressed", "true");

  await page.goto("/history");
  const filter = page.getByRole("button", { name: "Favourites" });
  await filter.click();
  await expect(filter).toHaveAttribute("aria-pressed", "true");
  await expect(page.getByTestId("history-item").filter({ hasText: caption.slice(0, 40) })).toBeVisible();
  expect(errors).toEqual([]);
});

test("streaming: the first words show while the model is still writing", async ({ page, request }, testInfo) => {
  await fakeBehaviour(request, { streamChunkDelayMs: 150 });
  await page.goto("/");
  await describe(page, `rainy Sunday reading in a window seat ${RUN}-${Date.now()}`);
  await watchLayoutShift(page);
  // The moment the first words are on screen, in the page's clock (performance.now()).
  await page.evaluate(() => {
    const w = window as unknown as { __firstText?: number };
    const observer = new MutationObserver(() => {
      if ((document.querySelector("[data-testid='variant'] p")?.textContent ?? "").trim()) {
        w.__firstText = performance.now();
        observer.disconnect();
      }
    });
    observer.observe(document.body, { subtree: true, childList: true, characterData: true });
  });

  await generateButton(page).click();
  await expect(page.locator("section[aria-busy='true']")).toHaveCount(0, { timeout: 20_000 });
  await expect(page.getByTestId("caption")).toBeVisible();

  // The response's own timing (Chromium's request events are no help here: it reports a stream
  // read through a reader as aborted), and the fake model's: when it stopped writing.
  const times = await page.evaluate(() => {
    const entry = performance.getEntriesByType("resource").filter((e) => e.name.endsWith("/api/generate")).at(-1) as PerformanceResourceTiming | undefined;
    const firstText = (window as unknown as { __firstText?: number }).__firstText ?? Number.NaN;
    return { origin: performance.timeOrigin, firstText, start: entry?.startTime ?? Number.NaN, responseEnd: entry?.responseEnd ?? Number.NaN };
  });
  const stats = (await (await request.get(`${FAKE_OPENAI}/__control/stats`)).json()) as { lastStreamEndedAt: number | null };
  const modelEnd = (stats.lastStreamEndedAt ?? Number.NaN) - times.origin;
  expect(times.firstText, "the first words showed before the response ended").toBeLessThan(times.responseEnd);
  expect(times.firstText, "the first words showed before the model finished writing").toBeLessThan(modelEnd);
  const ms = (at: number) => Math.round(at - times.start);
  const timing = `first words on screen after ${ms(times.firstText)} ms; model finished after ${ms(modelEnd)} ms; response ended after ${ms(times.responseEnd)} ms`;
  testInfo.annotations.push({ type: "stream timing", description: timing });
  console.log(`studio stream timing: ${timing}`);
  expect(await layoutShift(page)).toBeLessThan(0.05);
});

test("layout shift while three versions stream in stays under 0.05, at desktop and phone widths", async ({ page, request }) => {
  await fakeBehaviour(request, { streamChunkDelayMs: 40 });
  for (const [size, text] of [
    [DESKTOP, "sunrise over the lake on the first hike of the year"],
    [PHONE, "our dog stole my sandwich at the beach"],
  ] as const) {
    await page.setViewportSize(size);
    await page.goto("/");
    await describe(page, text);
    await chooseVersions(page, 3);
    await watchLayoutShift(page);
    await generate(page);
    expect(await layoutShift(page), `CLS at ${size.width} px`).toBeLessThan(0.05);
  }
});

test.describe("on a phone", () => {
  test.use({ viewport: PHONE, hasTouch: true, isMobile: true });

  test("the menu opens the navigation, and the result scrolls into view after Generate", async ({ page }) => {
    const errors = watchConsole(page);
    await page.goto("/");
    const menu = page.getByRole("button", { name: "Menu" });
    await menu.click();
    await expect(menu).toHaveAttribute("aria-expanded", "true");
    await expect(page.getByRole("link", { name: "Pricing" })).toBeVisible();
    await menu.click();
    await expect(menu).toHaveAttribute("aria-expanded", "false");

    // A touch screen: no keyboard shortcut hint.
    expect(await page.evaluate(() => matchMedia("(hover: none), (pointer: coarse)").matches)).toBe(true);
    await expect(page.getByText("Ctrl/⌘ + Enter")).toBeHidden();

    await describe(page, "first 10k run after a long break");
    await expect(page.getByRole("heading", { name: "Your captions" })).not.toBeInViewport();
    await generate(page);
    await expect(page.getByRole("heading", { name: "Your captions" })).toBeInViewport();
    await expect(page.getByTestId("caption")).toBeInViewport();
    expect(errors).toEqual([]);
  });
});

for (const locale of ["en", "zh"] as const) {
  test(`the generator in ${locale}: accessible and captured, empty and with a result, at both widths`, async ({ page }) => {
    test.setTimeout(90_000);
    mkdirSync(SCREENSHOTS, { recursive: true });
    const errors = watchConsole(page);
    const capture = async (state: "empty" | "result") => {
      for (const [name, size] of [["desktop", DESKTOP], ["phone", PHONE]] as const) {
        await page.setViewportSize(size);
        await expectAccessible(page);
        // Scrolled to the end, the sticky action row sits in its place in a full-page capture.
        await page.evaluate(() => window.scrollTo(0, document.documentElement.scrollHeight));
        await page.screenshot({ path: `${SCREENSHOTS}/generator-${name}-${locale}-${state}.png`, fullPage: true });
      }
      await page.setViewportSize(DESKTOP);
    };

    await page.goto(locale === "en" ? "/" : "/zh");
    await expect(page.getByRole("list", { name: locale === "en" ? "Try an example" : "试试这些" }).getByRole("button")).toHaveCount(5);
    await capture("empty");

    // An example chip fills the description.
    const example = page.getByRole("list", { name: locale === "en" ? "Try an example" : "试试这些" }).getByRole("button").first();
    const exampleText = (await example.textContent()) ?? "";
    await expect(async () => {
      await example.click();
      await expect(page.getByTestId("char-count")).toHaveText(new RegExp(`^${[...exampleText].length} /`), { timeout: 1000 });
    }).toPass();
    await chooseVersions(page, 2);
    await generate(page);
    await expect(page.getByTestId("variant")).toHaveCount(2);
    await capture("result");
    expect(errors).toEqual([]);
  });
}

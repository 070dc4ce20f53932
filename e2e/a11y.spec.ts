import { test } from "./support/test";
import { expectAccessible, signIn } from "./support/browser";

/**
 * axe on every user page, at desktop and phone widths, in English and Chinese (issue 10): no
 * serious or critical problems. The generator with a result, account and pricing are also
 * checked in their own specs, in the states those specs reach.
 */
const SIZES = [
  { width: 1280, height: 900 },
  { width: 390, height: 844 },
] as const;
const GUEST_PAGES = ["", "/pricing", "/signin", "/history", "/no-such-page"];
const USER_PAGES = ["/account", "/history", ""];

test.describe.configure({ timeout: 120_000 });

for (const locale of ["en", "zh"] as const) {
  test(`every guest page is accessible at both sizes (${locale})`, async ({ page }) => {
    for (const size of SIZES) {
      await page.setViewportSize(size);
      for (const path of GUEST_PAGES) {
        await page.goto(`/${locale}${path}`);
        await expectAccessible(page);
      }
    }
  });

  test(`every signed-in page is accessible at both sizes (${locale})`, async ({ page }) => {
    await signIn(page, `a11y-${locale}-${Date.now()}@e2e.test`);
    for (const size of SIZES) {
      await page.setViewportSize(size);
      for (const path of USER_PAGES) {
        await page.goto(`/${locale}${path}`);
        await expectAccessible(page);
      }
    }
  });
}

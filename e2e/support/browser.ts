import AxeBuilder from "@axe-core/playwright";
import { expect, type Page } from "@playwright/test";
import { readFileSync } from "node:fs";
import { serverLog } from "./slots";

/** Console errors and uncaught exceptions (CSP violations show up here too). */
export function watchConsole(page: Page): string[] {
  const errors: string[] = [];
  page.on("console", (message) => {
    if (message.type() === "error") errors.push(message.text());
  });
  page.on("pageerror", (error) => errors.push(error.message));
  return errors;
}

/** axe-core on the current page: no serious or critical violations. */
export async function expectAccessible(page: Page): Promise<void> {
  // Dynamic pages may stream their metadata after the body: wait for the title to land, or axe
  // would report a document without one (the page is not finished, not inaccessible).
  await expect(page).toHaveTitle(/\S/);
  const results = await new AxeBuilder({ page }).withTags(["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]).analyze();
  const serious = results.violations
    .filter((v) => v.impact === "serious" || v.impact === "critical")
    .map((v) => `${v.id} (${v.impact}): ${v.nodes.map((n) => n.target.join(" ")).join(", ")}`);
  expect(serious, "serious/critical axe violations").toEqual([]);
}

/** Full-page screenshots at desktop and phone widths, kept under e2e/.artifacts/screenshots/. */
export async function screenshots(page: Page, name: string): Promise<void> {
  for (const width of [1280, 390]) {
    await page.setViewportSize({ width, height: width === 390 ? 844 : 900 });
    await page.screenshot({ path: `e2e/.artifacts/screenshots/${name}-${width}.png`, fullPage: true });
  }
  await page.setViewportSize({ width: 1280, height: 900 });
}

/** The latest local sign-in link for `email`, from the app server's log (embedded mode prints it). */
export function signInLinkFromLog(email: string): string {
  const log = readFileSync(serverLog(), "utf8");
  const lines = log.split("\n").filter((line) => line.includes("local sign-in link") && line.includes(email));
  const last = lines.at(-1);
  const url = last ? /"(?:url|link)":"([^"]+)"/.exec(last)?.[1] : undefined;
  if (!url) throw new Error(`no sign-in link for ${email} in the server log`);
  return url;
}

/** Signs in through the local sign-in form and the link from the server log; returns the user id. */
export async function signIn(page: Page, email: string): Promise<string> {
  await page.goto("/signin");
  await page.getByLabel("Email", { exact: true }).fill(email);
  await page.getByRole("button", { name: "Email me a sign-in link" }).click();
  await expect(page.getByText("Check your inbox")).toBeVisible();
  await expect.poll(() => {
    try {
      return signInLinkFromLog(email);
    } catch {
      return "";
    }
  }).not.toBe("");
  await page.goto(signInLinkFromLog(email));
  await expect(page.getByRole("link", { name: "Account" })).toBeVisible();
  const session = (await (await page.request.get("/api/auth/session")).json()) as { viewer: { kind: string; id: string } };
  expect(session.viewer.kind).toBe("user");
  return session.viewer.id;
}

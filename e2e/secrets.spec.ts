import { readFileSync } from "node:fs";
import { expect, test } from "./support/test";
import { signIn } from "./support/browser";
import { E2E_SERVER_SECRETS, serverLog } from "./support/slots";

/**
 * PRODUCT §6: secrets never reach the browser bundle or the logs. The app server runs with real
 * secret values (E2E_SERVER_SECRETS: the signing secret, the OpenAI key, the metrics token, the
 * cron secret); a guest and then an admin walk the site, and every text the browser received
 * (pages, scripts, styles, RSC payloads, API answers) and the server's whole log so far are
 * searched for each value.
 */
test("the server's secrets reach neither the browser nor the server's log", async ({ page }) => {
  test.setTimeout(120_000);
  const received: Promise<{ url: string; type: string; text: string }>[] = [];
  page.on("response", (response) => {
    const type = response.headers()["content-type"] ?? "";
    if (!/text|javascript|json|x-component|css/.test(type)) return;
    received.push(response.text().then((text) => ({ url: response.url(), type, text }), () => ({ url: response.url(), type, text: "" })));
  });

  // A guest: the generator (a caption, so the client code that shows it has run), pricing, Chinese.
  await page.setExtraHTTPHeaders({ "x-forwarded-for": "198.18.77.1" });
  await page.goto("/");
  await page.getByLabel("What's your post about?").fill("secrets stay on the server");
  await page.getByRole("button", { name: "Generate", exact: true }).click();
  await expect(page.getByTestId("caption")).toBeVisible();
  for (const path of ["/pricing", "/zh"]) await page.goto(path);

  // An admin: the console pages that show configuration and operations.
  await signIn(page, "admin@e2e.test");
  for (const path of ["/admin", "/admin/operations", "/admin/database", "/account", "/history"]) {
    const response = await page.goto(path);
    expect(response?.status(), path).toBe(200);
  }

  const bodies = await Promise.all(received);
  expect(bodies.filter((b) => b.type.includes("javascript")).length).toBeGreaterThan(5);
  expect(bodies.filter((b) => b.type.includes("text/html")).length).toBeGreaterThanOrEqual(8);
  const log = readFileSync(serverLog(), "utf8");
  expect(log.length).toBeGreaterThan(0);
  for (const [name, value] of Object.entries(E2E_SERVER_SECRETS)) {
    const leaks = bodies.filter((b) => b.text.includes(value)).map((b) => b.url);
    expect(leaks, `${name} in what the browser received`).toEqual([]);
    expect(log.includes(value), `${name} in the server log`).toBe(false);
  }
});

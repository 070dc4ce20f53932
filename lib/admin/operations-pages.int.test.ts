/**
 * The generations, database and operations console pages render on the real stores (server
 * side, the viewer and the locale stubbed): an admin gets the write controls, a moderator none.
 * The browser suite (e2e/admin-operations.spec.ts) drives them for real.
 */
import { renderToString } from "react-dom/server";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { startTestApp, type TestApp } from "@/e2e/support/harness/app-harness";

const viewer = { kind: "user", id: "00000000-0000-4000-8000-000000000001", email: "ops@example.test", role: "admin" as "admin" | "moderator" };

vi.mock("@/lib/admin/console", () => ({ requireConsoleViewer: async () => viewer }));
vi.mock("next-intl/server", () => ({ setRequestLocale: () => {} }));
vi.mock("@/i18n/navigation", () => ({ Link: (p: { children: unknown }) => p.children, useRouter: () => ({ refresh() {} }) }));

const WRITE_BUTTON = /<button[^>]*>[^<]*(sweep|reset|force|flush|run retention)/i;

let app: TestApp;
beforeAll(async () => {
  app = await startTestApp();
});
afterAll(async () => {
  await app?.close();
});

async function render(): Promise<{ operations: string; database: string; generations: string }> {
  const params = Promise.resolve({ locale: "en" });
  const operations = (await import("@/app/[locale]/admin/operations/page")).default;
  const database = (await import("@/app/[locale]/admin/database/page")).default;
  const generations = (await import("@/app/[locale]/admin/generations/page")).default;
  return {
    operations: renderToString(await operations({ params })),
    database: renderToString(await database({ params })),
    generations: renderToString(await generations({ params, searchParams: Promise.resolve({ status: "bogus" }) })),
  };
}

describe(`console pages: generations, database, operations (${process.env.TEST_DATABASE_URL ? "PostgreSQL" : "PGlite"})`, () => {
  it("render for an admin with their write controls", async () => {
    viewer.role = "admin";
    const html = await render();
    expect(html.operations).toContain("Circuit breaker");
    for (const label of ["Force open", "Reset", "Flush cache", "Run retention"]) expect(html.operations).toContain(label);
    expect(html.generations).toContain("Sweep stuck generations");
    expect([WRITE_BUTTON.test(html.operations), WRITE_BUTTON.test(html.generations), WRITE_BUTTON.test(html.database)]).toEqual([true, true, false]);
    expect(html.generations).toContain("were not valid");
    expect(html.database).toContain("Table sizes");
    expect(html.database).toContain(app.db.kind === "pglite" ? "embedded database" : "Active connections");
  });

  it("render for a moderator without a write button", async () => {
    viewer.role = "moderator";
    const html = await render();
    for (const [page, markup] of Object.entries(html)) expect({ page, write: WRITE_BUTTON.test(markup) }).toEqual({ page, write: false });
    expect(html.operations).toContain("Caption cache");
  });
});

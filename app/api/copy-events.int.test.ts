/**
 * Copy events from the caption studio (issue 10 §8): `copy_caption` carries the copied variant's
 * hook as `variant` and { edited, variantIndex, platform } as meta, and the console's funnel
 * breakdown by variant then shows which hooks people copy.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestApp, type TestApp } from "@/e2e/support/harness/app-harness";

let app: TestApp;

beforeAll(async () => {
  app = await startTestApp();
});
afterAll(async () => {
  await app.close();
});

const copy = (sessionId: string, variant: string, meta: Record<string, unknown>) =>
  app.request("POST", "/api/events", {
    ip: "198.51.103.7",
    headers: { origin: "http://litstatus.test" },
    json: { event: "copy_caption", sessionId, path: "/en", lang: "en", variant, meta },
  });

describe("copy events", () => {
  it("record the hook, whether the caption was edited, the variant picked and the platform", async () => {
    expect((await copy("sess-copy-1", "question", { edited: true, variantIndex: 1, platform: "instagram" })).status).toBe(202);
    expect((await copy("sess-copy-2", "story", { edited: false, variantIndex: 0, platform: "" })).status).toBe(202);
    expect((await copy("sess-copy-3", "question", { edited: false, variantIndex: 2, platform: "x" })).status).toBe(202);
    await app.flush();
    const rows = await app.db.query<{ variant: string; meta: Record<string, unknown> }>(
      `select variant, meta from litstatus.funnel_events where event = 'copy_caption' order by session_id`,
    );
    expect(rows).toEqual([
      { variant: "question", meta: { edited: true, variantIndex: 1, platform: "instagram" } },
      { variant: "story", meta: { edited: false, variantIndex: 0, platform: "" } },
      { variant: "question", meta: { edited: false, variantIndex: 2, platform: "x" } },
    ]);

    const admin = await app.signUp();
    await app.db.query(`update litstatus.profiles set role = 'admin' where user_id = $1`, [admin.userId]);
    const res = await app.request("GET", "/api/admin/funnel?days=1&by=variant", { token: admin.token });
    expect(res.status).toBe(200);
    const report = (await res.json()) as { breakdown: { key: string | null; events: { event: string; count: number }[] }[] };
    const copies = (hook: string) => report.breakdown.find((s) => s.key === hook)?.events.find((e) => e.event === "copy_caption")?.count;
    expect(copies("question")).toBe(2);
    expect(copies("story")).toBe(1);
  });
});

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BREAKER_KEY } from "@/lib/generation/keys";
import { startTestApp, type TestApp } from "@/e2e/support/harness/app-harness";

interface Body {
  model: string;
  cached: boolean;
  error?: { code: string };
}

describe("fallback model while the breaker is open", () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp({ OPENAI_FALLBACK_MODEL: "gpt-fallback-mini", BREAKER_COOLDOWN_MS: "600000" });
  });
  afterAll(async () => {
    await app.close();
  });

  it("answers with the fallback model (cached separately) and leaves the breaker alone", async () => {
    await app.kv.breakerWrite(BREAKER_KEY, "open");
    const input = { text: "fallback while open", mode: "standard", lang: "en" };
    const first = await app.generate(input, { ip: "198.51.100.200" });
    expect(first.status).toBe(200);
    const body = (await first.json()) as Body;
    expect(body).toMatchObject({ model: "gpt-fallback-mini", cached: false });
    expect((app.fake.stats().lastChatRequest as { model: string }).model).toBe("gpt-fallback-mini");

    const again = (await (await app.generate(input, { ip: "198.51.100.200" })).json()) as Body;
    expect(again).toMatchObject({ model: "gpt-fallback-mini", cached: true });
    expect(app.fake.stats().chatCalls).toBe(1);
    expect((await app.kv.breakerRead(BREAKER_KEY)).state).toBe("open");

    // Once the breaker closes, the primary model answers and the fallback's entry is not served.
    await app.kv.breakerWrite(BREAKER_KEY, "closed");
    const primary = (await (await app.generate(input, { ip: "198.51.100.200" })).json()) as Body;
    expect(primary).toMatchObject({ model: "gpt-4o-mini", cached: false });
  });
});

import { describe, expect, it } from "vitest";
import { createDenyList } from "./deny-list";

describe("createDenyList", () => {
  const denyList = createDenyList(["Spam Bot", "禁词"]);

  it("passes ordinary text", () => {
    for (const text of ["sunset at the beach", "my cat killed it at the talent show", "skill yourselfie", "今天天气很好"]) {
      expect(denyList.check(text)).toEqual({ blocked: false });
    }
  });

  it("blocks built-in terms case-insensitively and reports the configured term", () => {
    expect(denyList.check("Just KILL YOURSELF already")).toEqual({ blocked: true, term: "kill yourself" });
    expect(denyList.check("looking for child porn")).toEqual({ blocked: true, term: "child porn" });
  });

  it("matches whole words only", () => {
    expect(denyList.check("kysely is a query builder")).toEqual({ blocked: false });
    expect(denyList.check("ok kys")).toMatchObject({ blocked: true, term: "kys" });
  });

  it("sees through NFKC forms, accents, invisible characters, leetspeak and separators", () => {
    for (const text of [
      "ＫＩＬＬ ＹＯＵＲＳＥＬＦ",
      "kïll yoursélf",
      "ki\u200bll your\u00adself",
      "k1ll y0urs3lf",
      "kill---yourself!!",
      "kill_yourself",
    ]) {
      expect(denyList.check(text)).toMatchObject({ blocked: true, term: "kill yourself" });
    }
  });

  it("includes extra terms, normalized the same way", () => {
    expect(denyList.check("hello spam-bot")).toEqual({ blocked: true, term: "Spam Bot" });
    expect(denyList.check("这是禁词吗")).toEqual({ blocked: true, term: "禁词" });
    expect(denyList.check("这是禁 词吗")).toEqual({ blocked: true, term: "禁词" });
  });

  it("ignores blank extra terms and documents what it does not catch", () => {
    const list = createDenyList(["", "   ", "!!"]);
    expect(list.check("anything at all")).toEqual({ blocked: false });
    expect(list.check("k i l l yourself").blocked).toBe(false);
    expect(list.check("killyourself").blocked).toBe(false);
  });
});

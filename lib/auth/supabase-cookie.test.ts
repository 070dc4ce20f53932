import { serializeCookieHeader } from "@supabase/ssr";
import { describe, expect, it } from "vitest";
import {
  clearedSupabaseCookies,
  hardenCookie,
  isSupabaseAuthCookie,
  readRequestCookies,
  readSupabaseAccessToken,
  supabaseStorageKey,
  type HardenedCookie,
} from "./supabase-cookie";

const KEY = "sb-abcdefgh-auth-token";
const session = { access_token: "header.payload.signature", refresh_token: "r1", expires_at: 1, user: { id: "u" } };
/** The request cookies of a `Cookie` header. */
const parse = (header: string) => readRequestCookies(new Headers({ cookie: header }));
/** The attributes of the `Set-Cookie` line, in a stable order (their order carries no meaning). */
const setCookie = (cookie: HardenedCookie) => {
  const [pair, ...attributes] = serializeCookieHeader(cookie.name, cookie.value, cookie.options).split("; ");
  return [pair, ...attributes.sort()].join("; ");
};
const base64 = (value: unknown) => `base64-${Buffer.from(JSON.stringify(value), "utf8").toString("base64url")}`;

describe("supabaseStorageKey", () => {
  it("uses the first label of the project host, like supabase-js", () => {
    expect(supabaseStorageKey("https://abcdefgh.supabase.co")).toBe(KEY);
    expect(supabaseStorageKey("http://127.0.0.1:54321/")).toBe("sb-127-auth-token");
  });
});

describe("readSupabaseAccessToken", () => {
  it("is undefined without a session cookie (a guest), even with a code verifier", () => {
    expect(readSupabaseAccessToken(parse("ls_x=1; sb-abcdefgh-auth-token-code-verifier=v"), KEY)).toBeUndefined();
    expect(readSupabaseAccessToken([], KEY)).toBeUndefined();
  });

  it("reads a base64- cookie", () => {
    expect(readSupabaseAccessToken([{ name: KEY, value: base64(session) }], KEY)).toBe(session.access_token);
  });

  it("joins chunks .0, .1, … in order, whatever order the header lists them in", () => {
    const value = base64({ ...session, user: { id: "u", padding: "x".repeat(5000) } });
    const header = `${KEY}.1=${value.slice(3000)}; other=1; ${KEY}.0=${value.slice(0, 3000)}`;
    expect(readSupabaseAccessToken(parse(header), KEY)).toBe(session.access_token);
  });

  it("reads raw (URL-encoded JSON) values", () => {
    const header = `${KEY}=${encodeURIComponent(JSON.stringify(session))}`;
    expect(readSupabaseAccessToken(parse(header), KEY)).toBe(session.access_token);
  });

  it.each([
    ["not JSON", "base64-bm90IGpzb24"],
    ["JSON without a token", base64({ refresh_token: "r" })],
    ["a token that is not a string", base64({ access_token: 42 })],
    ["mismatched chunks", "base64-eyJhY2Nlc3NfdG9r"],
  ])("answers \"\" (a malformed token, not a guest) for %s", (_case, value) => {
    expect(readSupabaseAccessToken([{ name: KEY, value }], KEY)).toBe("");
  });

  it("ignores another project's cookie", () => {
    expect(readSupabaseAccessToken([{ name: "sb-other-auth-token", value: base64(session) }], KEY)).toBeUndefined();
  });
});

describe("cookie names", () => {
  it.each([
    [KEY, true],
    [`${KEY}.0`, true],
    [`${KEY}.12`, true],
    [`${KEY}-code-verifier`, true],
    [`${KEY}-code-verifier.0`, true],
    [`${KEY}.01`, false],
    [`${KEY}.x`, false],
    [`${KEY}-user`, false],
    ["sb-other-auth-token", false],
    ["ls_session", false],
  ])("%s is a session cookie: %s", (name, expected) => {
    expect(isSupabaseAuthCookie(name, KEY)).toBe(expected);
  });
});

describe("readRequestCookies", () => {
  it("reads every pair, URL-decoding values where they parse and keeping the first of a repeated name", () => {
    expect(parse("a=1; b=%7B%22x%22%3A1%7D; c=100%; a=2")).toEqual([
      { name: "a", value: "1" },
      { name: "b", value: '{"x":1}' },
      { name: "c", value: "100%" },
    ]);
    expect(readRequestCookies(new Headers())).toEqual([]);
  });
});

describe("hardenCookie (serialized by @supabase/ssr)", () => {
  it("forces HttpOnly, SameSite=Lax, Path=/ and no Domain whatever the library asks for", () => {
    const cookie = hardenCookie(KEY, "v", { httpOnly: false, sameSite: "none", path: "/x", domain: "example.com", maxAge: 60 }, false);
    expect(setCookie(cookie)).toBe(`${KEY}=v; HttpOnly; Max-Age=60; Path=/; SameSite=Lax`);
  });

  it("adds Secure in production and removes with Max-Age=0", () => {
    expect(setCookie(hardenCookie(KEY, "", { maxAge: 999 }, true))).toBe(`${KEY}=; HttpOnly; Max-Age=0; Path=/; SameSite=Lax; Secure`);
  });

  it("keeps @supabase/ssr's 400-day lifetime when it names none", () => {
    expect(hardenCookie(KEY, "v", undefined, false).options.maxAge).toBe(400 * 24 * 60 * 60);
  });

  it("URL-encodes a raw JSON session so the value survives the header", () => {
    const value = JSON.stringify(session);
    const line = serializeCookieHeader(KEY, value, hardenCookie(KEY, value, undefined, false).options);
    expect(readSupabaseAccessToken(parse(line.split("; ")[0] ?? ""), KEY)).toBe(session.access_token);
  });

  it("clears exactly the Supabase session cookies present", () => {
    const cleared = clearedSupabaseCookies(parse(`${KEY}.0=a; ${KEY}.1=b; ls_session=t; NEXT_LOCALE=en`), KEY, false);
    expect(cleared.map((c) => [c.name, c.options.maxAge])).toEqual([
      [`${KEY}.0`, 0],
      [`${KEY}.1`, 0],
    ]);
  });
});

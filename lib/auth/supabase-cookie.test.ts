import { describe, expect, it } from "vitest";
import {
  clearedSupabaseCookies,
  hardenCookie,
  isSupabaseAuthCookie,
  parseCookieHeader,
  readSupabaseAccessToken,
  serializeCookie,
  supabaseStorageKey,
} from "./supabase-cookie";

const KEY = "sb-abcdefgh-auth-token";
const session = { access_token: "header.payload.signature", refresh_token: "r1", expires_at: 1, user: { id: "u" } };
const base64 = (value: unknown) => `base64-${Buffer.from(JSON.stringify(value), "utf8").toString("base64url")}`;

describe("supabaseStorageKey", () => {
  it("uses the first label of the project host, like supabase-js", () => {
    expect(supabaseStorageKey("https://abcdefgh.supabase.co")).toBe(KEY);
    expect(supabaseStorageKey("http://127.0.0.1:54321/")).toBe("sb-127-auth-token");
  });
});

describe("readSupabaseAccessToken", () => {
  it("is undefined without a session cookie (a guest), even with a code verifier", () => {
    expect(readSupabaseAccessToken(parseCookieHeader("ls_x=1; sb-abcdefgh-auth-token-code-verifier=v"), KEY)).toBeUndefined();
    expect(readSupabaseAccessToken([], KEY)).toBeUndefined();
  });

  it("reads a base64- cookie", () => {
    expect(readSupabaseAccessToken([{ name: KEY, value: base64(session) }], KEY)).toBe(session.access_token);
  });

  it("joins chunks .0, .1, … in order, whatever order the header lists them in", () => {
    const value = base64({ ...session, user: { id: "u", padding: "x".repeat(5000) } });
    const header = `${KEY}.1=${value.slice(3000)}; other=1; ${KEY}.0=${value.slice(0, 3000)}`;
    expect(readSupabaseAccessToken(parseCookieHeader(header), KEY)).toBe(session.access_token);
  });

  it("reads raw (URL-encoded JSON) values", () => {
    const header = `${KEY}=${encodeURIComponent(JSON.stringify(session))}`;
    expect(readSupabaseAccessToken(parseCookieHeader(header), KEY)).toBe(session.access_token);
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

describe("hardenCookie / serializeCookie", () => {
  it("forces HttpOnly, SameSite=Lax, Path=/ and no Domain whatever the library asks for", () => {
    const cookie = hardenCookie(KEY, "v", { httpOnly: false, sameSite: "none", path: "/x", domain: "example.com", maxAge: 60 }, false);
    expect(serializeCookie(cookie)).toBe(`${KEY}=v; Path=/; Max-Age=60; HttpOnly; SameSite=Lax`);
  });

  it("adds Secure in production and removes with Max-Age=0", () => {
    expect(serializeCookie(hardenCookie(KEY, "", { maxAge: 999 }, true))).toBe(`${KEY}=; Path=/; Max-Age=0; HttpOnly; SameSite=Lax; Secure`);
  });

  it("clears exactly the Supabase session cookies present", () => {
    const cleared = clearedSupabaseCookies(parseCookieHeader(`${KEY}.0=a; ${KEY}.1=b; ls_session=t; NEXT_LOCALE=en`), KEY, false);
    expect(cleared.map((c) => [c.name, c.options.maxAge])).toEqual([
      [`${KEY}.0`, 0],
      [`${KEY}.1`, 0],
    ]);
  });
});

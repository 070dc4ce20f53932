import { safeNextPath } from "@/lib/auth/local";
import {
  createSupabaseForRequest,
  invalidLinkPath,
  supabaseAuthConfig,
  SupabaseResponseCookies,
} from "@/lib/auth/supabase-server";
import { clearedSupabaseCookies, isCodeVerifierCookie, readRequestCookies, supabaseStorageKey } from "@/lib/auth/supabase-cookie";
import { getEnv } from "@/lib/env";
import { methods, route } from "@/lib/http/route";

export const dynamic = "force-dynamic";

const MAX_CODE_LENGTH = 512;

function seeOther(location: string, cookies: SupabaseResponseCookies): Response {
  const headers = cookies.applyTo(new Headers({ Location: location, "Cache-Control": "no-store" }));
  return new Response(null, { status: 303, headers });
}

/**
 * Supabase sign-in, step 2 (magic link or OAuth): the PKCE code plus this browser's verifier
 * cookie are exchanged for a session, stored in HttpOnly cookies. Any failure (no code, an
 * error from the provider, a used or expired code, another browser) lands on the sign-in page.
 */
const callback = route("auth.supabase.callback", { auth: "anyone", sameOrigin: false, limit: "api" }, async ({ req, log }) => {
  const env = getEnv();
  const config = supabaseAuthConfig(env);
  const url = new URL(req.url);
  const next = safeNextPath(url.searchParams.get("next"));
  const code = url.searchParams.get("code") ?? "";
  const cookies = new SupabaseResponseCookies();

  const storageKey = supabaseStorageKey(config.url);
  const present = readRequestCookies(req.headers);

  const fail = (reason: Record<string, unknown>): Response => {
    log.info(reason, "supabase sign-in link invalid");
    // The verifier is single-use either way: drop it. A session the browser already had stays.
    const cleared = clearedSupabaseCookies(present, storageKey, config.secure);
    cookies.add(cleared.filter((c) => isCodeVerifierCookie(c.name, storageKey)));
    return seeOther(invalidLinkPath(next), cookies);
  };

  if (code === "" || code.length > MAX_CODE_LENGTH) {
    return fail({ error: url.searchParams.get("error_code") ?? url.searchParams.get("error") ?? "missing_code" });
  }
  const supabase = createSupabaseForRequest(req, cookies, config, { session: false });
  const { data, error } = await supabase.auth.exchangeCodeForSession(code);
  if (error || !data.session) return fail({ error: error?.code ?? error?.name ?? "no_session", status: error?.status });
  // The new session replaces any old one: chunks of it that were not overwritten are removed.
  const written = new Set(cookies.cookies.map((c) => c.name));
  cookies.add(clearedSupabaseCookies(present, storageKey, config.secure).filter((c) => !written.has(c.name)));
  log.info({ userId: data.user?.id }, "signed in with supabase");
  return seeOther(next, cookies);
});

export const { GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS } = methods({ GET: callback });

import { publicOrigin, safeNextPath } from "@/lib/auth/local";
import {
  createSupabaseForRequest,
  supabaseAuthConfig,
  supabaseCallbackUrl,
  SupabaseResponseCookies,
  toSignInError,
} from "@/lib/auth/supabase-server";
import { getEnv } from "@/lib/env";
import { AppError, route } from "@/lib/http/route";

export const dynamic = "force-dynamic";

const PROVIDERS = ["google", "github"] as const;
type Provider = (typeof PROVIDERS)[number];

const isProvider = (value: string | null): value is Provider => PROVIDERS.includes(value as Provider);

/**
 * Supabase sign-in with Google or GitHub: a PKCE code verifier goes into an HttpOnly cookie and
 * the browser is sent (303) to the provider through Supabase, which returns to our callback.
 */
export const GET = route("auth.supabase.oauth", async ({ req, log }) => {
  const env = getEnv();
  const config = supabaseAuthConfig(env);
  const url = new URL(req.url);
  const provider = url.searchParams.get("provider");
  if (!isProvider(provider)) throw new AppError("invalid_input", `provider must be one of: ${PROVIDERS.join(", ")}.`);
  const next = safeNextPath(url.searchParams.get("next"));
  const cookies = new SupabaseResponseCookies();
  const supabase = createSupabaseForRequest(req, cookies, config, { session: false });
  const { data, error } = await supabase.auth.signInWithOAuth({
    provider,
    options: { redirectTo: supabaseCallbackUrl(publicOrigin(req, env), next), skipBrowserRedirect: true },
  });
  if (error || !data.url) {
    log.warn({ provider, status: error?.status, code: error?.code }, "supabase oauth sign-in could not start");
    throw error ? toSignInError(error) : new AppError("upstream_unavailable", "Sign-in is unavailable right now.");
  }
  const headers = cookies.applyTo(new Headers({ Location: data.url, "Cache-Control": "no-store" }));
  return new Response(null, { status: 303, headers });
});

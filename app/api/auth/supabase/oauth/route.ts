import { publicOrigin, safeNextPath } from "@/lib/auth/local";
import {
  createSupabaseForRequest,
  supabaseAuthConfig,
  supabaseCallbackUrl,
  SupabaseResponseCookies,
  toSignInError,
} from "@/lib/auth/supabase-server";
import { getEnv } from "@/lib/env";
import { z } from "zod";
import { AppError, methods, route } from "@/lib/http/route";

export const dynamic = "force-dynamic";

const PROVIDERS = ["google", "github"] as const;
type Provider = (typeof PROVIDERS)[number];

/** Unknown parameters are ignored here: providers and tracking add their own to such links. */
const oauthQuery = z.object({
  provider: z.enum(PROVIDERS, { error: `provider must be one of: ${PROVIDERS.join(", ")}.` }),
  next: z.string().optional(),
});

/**
 * Supabase sign-in with Google or GitHub: a PKCE code verifier goes into an HttpOnly cookie and
 * the browser is sent (303) to the provider through Supabase, which returns to our callback.
 */
const oauth = route("auth.supabase.oauth", { auth: "anyone", sameOrigin: false, limit: "api", query: oauthQuery }, async ({ req, log, query }) => {
  const env = getEnv();
  const config = supabaseAuthConfig(env);
  const provider: Provider = query.provider;
  const next = safeNextPath(query.next);
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

export const { GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS } = methods({ GET: oauth });

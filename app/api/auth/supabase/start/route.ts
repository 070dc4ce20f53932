import { publicOrigin, safeNextPath } from "@/lib/auth/local";
import {
  createSupabaseForRequest,
  supabaseAuthConfig,
  supabaseCallbackUrl,
  SupabaseResponseCookies,
  toSignInError,
} from "@/lib/auth/supabase-server";
import { getEnv } from "@/lib/env";
import { json, methods, route } from "@/lib/http/route";
import { startSignInSchema } from "../../local/start/schema";

export const dynamic = "force-dynamic";

/**
 * Supabase sign-in, step 1: Supabase emails a magic link that comes back to our callback with
 * a PKCE code. The code verifier stays in this browser (an HttpOnly cookie set here), so the
 * link has to be opened in the browser that asked for it.
 */
const start = route("auth.supabase.start", { auth: "anyone", sameOrigin: true, limit: "signin", body: startSignInSchema }, async ({ req, log, body }) => {
  const env = getEnv();
  const config = supabaseAuthConfig(env);
  const { email, next } = body;
  const cookies = new SupabaseResponseCookies();
  const supabase = createSupabaseForRequest(req, cookies, config, { session: false });
  const { error } = await supabase.auth.signInWithOtp({
    email,
    options: { emailRedirectTo: supabaseCallbackUrl(publicOrigin(req, env), safeNextPath(next)) },
  });
  if (error) {
    log.warn({ status: error.status, code: error.code }, "supabase refused the sign-in email");
    throw toSignInError(error);
  }
  return json({ ok: true }, { headers: cookies.applyTo(new Headers()) });
});

export const { GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS } = methods({ POST: start });

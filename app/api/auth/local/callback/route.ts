import { completeLocalSignIn, safeNextPath } from "@/lib/auth/local";
import { authMode } from "@/lib/auth/mode";
import { sessionCookie } from "@/lib/auth/session-cookie";
import { getEnv } from "@/lib/env";
import { AppError, methods, route } from "@/lib/http/route";

export const dynamic = "force-dynamic";

/** Back to the sign-in page in the language the link was requested from (its `next` path). */
function invalidLinkPath(next: string): string {
  return `${/^\/zh(\/|$)/.test(next) ? "/zh" : ""}/signin?error=link_invalid`;
}

function seeOther(location: string, headers: Record<string, string> = {}): Response {
  return new Response(null, { status: 303, headers: { Location: location, "Cache-Control": "no-store", ...headers } });
}

/** Embedded sign-in, step 2: the link from the log, exchanged once for a session cookie. */
const callback = route("auth.local.callback", { auth: "anyone", sameOrigin: false, limit: "api" }, async ({ req, log }) => {
  const env = getEnv();
  if (authMode(env) !== "local") throw new AppError("not_found", "Local sign-in is off: this site uses Supabase Auth.");
  const url = new URL(req.url);
  const next = safeNextPath(url.searchParams.get("next"));
  const session = await completeLocalSignIn(env, url.searchParams.get("token") ?? "");
  if (!session) {
    log.info("sign-in link invalid, used or expired");
    return seeOther(invalidLinkPath(next));
  }
  log.info({ userId: session.userId }, "signed in with a local link");
  return seeOther(next, {
    "Set-Cookie": sessionCookie(session.token, session.maxAgeSeconds, { secure: env.NODE_ENV === "production" }),
  });
});

export const { GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS } = methods({ GET: callback });

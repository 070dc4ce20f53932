import { authMode } from "@/lib/auth/mode";
import { createSignInLink, publicOrigin } from "@/lib/auth/local";
import { getEnv } from "@/lib/env";
import { AppError, json, methods, route } from "@/lib/http/route";
import { startSignInSchema } from "./schema";

export const dynamic = "force-dynamic";

/**
 * Embedded sign-in, step 1: a one-time link for the email, printed to the server log.
 * The answer is the same whoever asks; the per-IP `signin` limit keeps it from being an oracle.
 */
const start = route("auth.local.start", { auth: "anyone", sameOrigin: true, limit: "signin", body: startSignInSchema }, async ({ req, body }) => {
  const env = getEnv();
  if (authMode(env) !== "local") throw new AppError("not_found", "Local sign-in is off: this site uses Supabase Auth.");
  await createSignInLink(body.email, publicOrigin(req, env), body.next);
  return json({ ok: true });
});

export const { GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS } = methods({ POST: start });

import { authMode } from "@/lib/auth/mode";
import { createSignInLink, publicOrigin } from "@/lib/auth/local";
import { getDb } from "@/lib/db";
import { getEnv } from "@/lib/env";
import { enforceRateLimit } from "@/lib/ratelimit";
import { readJsonBody } from "@/lib/http/body";
import { assertSameOrigin } from "@/lib/http/origin";
import { AppError, json, route } from "@/lib/http/route";
import { startSignInSchema } from "./schema";

export const dynamic = "force-dynamic";

/**
 * Embedded sign-in, step 1: a one-time link for the email, printed to the server log.
 * The answer is the same whoever asks. The per-IP burst limiter is applied to this route
 * in the shared route layer.
 */
export const POST = route("auth.local.start", async ({ req, ip }) => {
  const env = getEnv();
  if (authMode(env) !== "local") throw new AppError("not_found", "Local sign-in is off: this site uses Supabase Auth.");
  assertSameOrigin(req);
  await enforceRateLimit("signin", { ip });
  const { email, next } = await readJsonBody(req, startSignInSchema, env.MAX_JSON_BODY_BYTES);
  await createSignInLink(await getDb(), email, publicOrigin(req, env), next);
  return json({ ok: true });
});

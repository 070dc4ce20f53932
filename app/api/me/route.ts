import { z } from "zod";
import { deleteAccount } from "@/lib/account/delete-account";
import { readDailyUsage, readProfileExtras, type AccountProfile } from "@/lib/account/usage";
import { clearedSessionCookie } from "@/lib/auth/session-cookie";
import { getDb } from "@/lib/db";
import { getEnv } from "@/lib/env";
import { getRecordWriter } from "@/lib/events";
import { readJsonBody } from "@/lib/http/body";
import { assertSameOrigin } from "@/lib/http/origin";
import { AppError, json, route } from "@/lib/http/route";
import { viewerWithinLimit } from "@/lib/http/viewer-request";
import { readQuota, utcDay } from "@/lib/quota";

export const dynamic = "force-dynamic";

const deleteSchema = z.strictObject({ confirm: z.literal("DELETE") });

const CONFIRM_MESSAGE = 'Confirm the deletion with { "confirm": "DELETE" }.';

/** GET /api/me — the signed-in user's profile, today's quota and the last 14 UTC days of usage. */
export const GET = route("me.get", async (ctx) => {
  const viewer = await viewerWithinLimit(ctx, "api");
  if (viewer.kind !== "user") throw new AppError("unauthorized", "Sign in to see your account.");
  const nowMs = Date.now();
  const db = await getDb();
  const [extras, quota, usage] = await ctx.timing.measure("db", () =>
    Promise.all([readProfileExtras(db, viewer.id), readQuota(viewer, ctx.ip, nowMs), readDailyUsage(db, viewer.id, utcDay(nowMs))]),
  );
  // getViewer just read (or created) the profile; it vanishing now means the account was deleted.
  if (!extras) throw new AppError("unauthorized", "Your account no longer exists.");
  const profile: AccountProfile = {
    userId: viewer.id,
    email: viewer.email,
    plan: viewer.plan,
    role: viewer.role,
    credits: extras.credits,
    createdAt: extras.createdAt,
  };
  return json({ profile, quota, usage });
});

/** DELETE /api/me — deletes the account and its data; body `{ "confirm": "DELETE" }`. */
export const DELETE = route("me.delete", async (ctx) => {
  assertSameOrigin(ctx.req);
  const env = getEnv();
  const viewer = await viewerWithinLimit(ctx, "api");
  if (viewer.kind !== "user") throw new AppError("unauthorized");
  // A bodiless DELETE is a missing confirmation (400), not a wrong media type.
  if (!ctx.req.headers.get("content-type")) throw new AppError("invalid_input", CONFIRM_MESSAGE);
  const parsed = await readJsonBody(ctx.req, z.unknown(), env.MAX_JSON_BODY_BYTES);
  if (!deleteSchema.safeParse(parsed).success) throw new AppError("invalid_input", CONFIRM_MESSAGE);

  // Records still buffered for this user are written first, so the deletion covers them too.
  await ctx.timing.measure("flush", () => getRecordWriter().flush());
  const result = await ctx.timing.measure("db", async () => deleteAccount(await getDb(), viewer.id));
  if (!result.deleted) throw new AppError("unauthorized", "Your account no longer exists.");
  ctx.log.info(
    {
      generations: result.generations,
      feedback: result.feedback,
      wishlist: result.wishlist,
      funnelEventsAnonymized: result.funnelEventsAnonymized,
      securityEventsAnonymized: result.securityEventsAnonymized,
    },
    "account deleted",
  );
  return json(
    { deleted: true },
    { headers: { "Set-Cookie": clearedSessionCookie({ secure: env.NODE_ENV === "production" }) } },
  );
});

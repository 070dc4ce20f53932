import { z } from "zod";
import { deleteMyAccount, readAccount } from "@/lib/account";
import { clearedSessionCookie } from "@/lib/auth/session-cookie";
import { getEnv } from "@/lib/env";
import { readJsonBody } from "@/lib/http/body";
import { AppError, json, methods, route, type BodyParser } from "@/lib/http/route";

export const dynamic = "force-dynamic";

const CONFIRM_MESSAGE = 'Confirm the deletion with { "confirm": "DELETE" }.';

/** `{ "confirm": "DELETE" }`; a bodiless DELETE is a missing confirmation (400), not a wrong media type. */
const confirmDeletion: BodyParser<{ confirm: "DELETE" }> = async (req, { maxJsonBytes }) => {
  if (!req.headers.get("content-type")) throw new AppError("invalid_input", CONFIRM_MESSAGE);
  const parsed = z.strictObject({ confirm: z.literal("DELETE") }).safeParse(await readJsonBody(req, z.unknown(), maxJsonBytes));
  if (!parsed.success) throw new AppError("invalid_input", CONFIRM_MESSAGE);
  return parsed.data;
};

export const { GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS } = methods({
  /** GET /api/me — the signed-in user's profile, today's quota and the last 14 UTC days of usage. */
  GET: route("me.get", { auth: "user", sameOrigin: false, limit: "api" }, async ({ viewer, timing }) => {
    const account = await timing.measure("db", () => readAccount(viewer));
    // The session was valid a moment ago; the profile vanishing now means the account was deleted.
    if (!account) throw new AppError("unauthorized", "Your account no longer exists.");
    return json(account);
  }),
  /** DELETE /api/me — deletes the account and its data; body `{ "confirm": "DELETE" }`. */
  DELETE: route("me.delete", { auth: "user", sameOrigin: true, limit: "api", body: confirmDeletion }, async ({ viewer, timing, log }) => {
    const result = await timing.measure("db", () => deleteMyAccount(viewer.id));
    if (!result.deleted) throw new AppError("unauthorized", "Your account no longer exists.");
    log.info(
      {
        generations: result.generations,
        feedback: result.feedback,
        wishlist: result.wishlist,
        funnelEventsAnonymized: result.funnelEventsAnonymized,
        securityEventsAnonymized: result.securityEventsAnonymized,
      },
      "account deleted",
    );
    return json({ deleted: true }, { headers: { "Set-Cookie": clearedSessionCookie({ secure: getEnv().NODE_ENV === "production" }) } });
  }),
});

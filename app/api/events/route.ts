import { z } from "zod";
import { CLIENT_EVENTS, SESSION_ID_PATTERN } from "@/lib/analytics/client-events";
import { getRecordWriter } from "@/lib/events";
import { parseJsonText, readBodyText } from "@/lib/http/body";
import { AppError, json, methods, route, type BodyParser } from "@/lib/http/route";

export const dynamic = "force-dynamic";

const MAX_BODY_BYTES = 8 * 1024;
const MAX_META_KEYS = 10;
const MAX_META_BYTES = 2 * 1024;

const optionalText = (max: number) => z.string().trim().max(max).optional();

const metaSchema = z
  .record(
    // Starting with a letter also keeps out `__proto__`.
    z.string().regex(/^[A-Za-z][A-Za-z0-9_.-]{0,63}$/, "meta keys are 1–64 letters, digits, _ . - (a letter first)"),
    z.union([z.string().max(512), z.number(), z.boolean(), z.null()]),
  )
  .refine((meta) => Object.keys(meta).length <= MAX_META_KEYS, `meta has at most ${MAX_META_KEYS} keys`)
  .refine((meta) => Buffer.byteLength(JSON.stringify(meta)) <= MAX_META_BYTES, `meta is at most ${MAX_META_BYTES} bytes`);

/** Unknown fields are ignored (not rejected): an older server keeps accepting a newer page's beacons. */
const eventSchema = z.object({
  event: z.enum(CLIENT_EVENTS),
  sessionId: z.string().regex(SESSION_ID_PATTERN, "sessionId is 8–128 letters, digits, _ or -"),
  path: z.string().max(512).startsWith("/").optional(),
  lang: z.string().regex(/^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,4})?$/).optional(),
  variant: optionalText(64),
  referrer: optionalText(1024),
  utm: z
    .object({ source: optionalText(128), medium: optionalText(128), campaign: optionalText(128) })
    .optional(),
  meta: metaSchema.optional(),
});

/** sendBeacon sends a string body as text/plain; fetch sends JSON. Anything else is refused. */
const eventBody: BodyParser<z.infer<typeof eventSchema>> = async (req) => {
  const type = req.headers.get("content-type");
  if (type !== null && !/^(application\/json|text\/plain)\b/i.test(type)) {
    throw new AppError("unsupported_media_type", "Send the event as JSON (application/json or text/plain).");
  }
  return parseJsonText(await readBodyText(req, MAX_BODY_BYTES), eventSchema);
};

export const { GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS } = methods({
  /**
   * POST /api/events — one funnel event from the browser (JSON, also as text/plain for
   * navigator.sendBeacon). Queued for a batched write: 202 without waiting for the database.
   * A stale session counts as a guest here: beacons must never bounce.
   */
  POST: route(
    "events",
    { auth: "guest", invalidSession: "guest", sameOrigin: true, limit: "api", body: eventBody },
    async ({ viewer, body: event }) => {
      getRecordWriter().funnelEvent({
        event: event.event,
        userId: viewer.kind === "user" ? viewer.id : null,
        sessionId: event.sessionId,
        path: event.path ?? null,
        lang: event.lang ?? null,
        variant: event.variant || null,
        referrer: event.referrer || null,
        utmSource: event.utm?.source || null,
        utmMedium: event.utm?.medium || null,
        utmCampaign: event.utm?.campaign || null,
        meta: event.meta,
      });
      return json({ ok: true }, { status: 202 });
    },
  ),
});

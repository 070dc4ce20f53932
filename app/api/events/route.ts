import { z } from "zod";
import { getRecordWriter } from "@/lib/events";
import { parseJsonText, readBodyText } from "@/lib/http/body";
import { assertSameOrigin } from "@/lib/http/origin";
import { AppError, json, route } from "@/lib/http/route";
import { viewerWithinLimit } from "@/lib/http/viewer-request";

export const dynamic = "force-dynamic";

/** Events browsers may report. `generate_success` is recorded by the server alone. */
const CLIENT_EVENTS = [
  "page_view",
  "generate_click",
  "copy_caption",
  "copy_all",
  "feedback_up",
  "feedback_down",
  "wish_submit",
  "signup",
  "upgrade_click",
] as const;

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
  sessionId: z.string().regex(/^[A-Za-z0-9_-]{8,128}$/, "sessionId is 8–128 letters, digits, _ or -"),
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
function assertAcceptedType(req: Request): void {
  const type = req.headers.get("content-type");
  if (type === null || /^(application\/json|text\/plain)\b/i.test(type)) return;
  throw new AppError("unsupported_media_type", "Send the event as JSON (application/json or text/plain).");
}

/**
 * POST /api/events — one funnel event from the browser (JSON, also as text/plain for
 * navigator.sendBeacon). Queued for a batched write: 202 without waiting for the database.
 */
export const POST = route("events", async (ctx) => {
  assertSameOrigin(ctx.req);
  const viewer = await viewerWithinLimit(ctx, "api", { guestOnBadToken: true });
  assertAcceptedType(ctx.req);
  const event = parseJsonText(await readBodyText(ctx.req, MAX_BODY_BYTES), eventSchema);
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
});


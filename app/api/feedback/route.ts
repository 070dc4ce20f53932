import { z } from "zod";
import { recordFeedback } from "@/lib/feedback";
import { json, methods, route } from "@/lib/http/route";

export const dynamic = "force-dynamic";

const feedbackBody = z.strictObject({
  generationId: z.uuid(),
  rating: z.union([z.literal(1), z.literal(-1)]),
  /** Blank is the same as absent. */
  comment: z
    .string()
    .trim()
    .max(1000)
    .optional()
    .transform((comment) => (comment ? comment : undefined)),
});

export const { GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS } = methods({
  /** POST /api/feedback — rate a generation +1 or -1 (with an optional comment); rating again replaces it. */
  POST: route("feedback", { auth: "guest", sameOrigin: true, limit: "api", body: feedbackBody }, async ({ viewer, ip, body, timing }) => {
    await timing.measure("db", () => recordFeedback(viewer, ip, body));
    return json({ ok: true });
  }),
});

import { z } from "zod";
import { MAX_EMAIL_CHARS } from "@/lib/util/field-limits";

export const startSignInSchema = z
  .object({
    email: z.string().trim().max(MAX_EMAIL_CHARS).toLowerCase().pipe(z.email()),
    /** Where to land after signing in: a same-site path, anything else falls back to `/`. */
    next: z.string().max(512).optional(),
  })
  .strict();

import { z } from "zod";

export const startSignInSchema = z
  .object({
    email: z.string().trim().max(254).toLowerCase().pipe(z.email()),
    /** Where to land after signing in: a same-site path, anything else falls back to `/`. */
    next: z.string().max(512).optional(),
  })
  .strict();

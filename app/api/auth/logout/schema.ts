import { z } from "zod";

export const logoutSchema = z
  .object({
    /** Also end every other session of this account (tokens issued before now stop working). */
    everywhere: z.boolean().optional(),
  })
  .strict();

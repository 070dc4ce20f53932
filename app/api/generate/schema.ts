import { z } from "zod";
import {
  EMOJI_LEVELS,
  LANGS,
  LENGTHS,
  MAX_IMAGE_BYTES,
  MAX_KEYWORD_CHARS,
  MAX_KEYWORDS,
  MAX_TEXT_CHARS,
  MAX_VARIANTS,
  MODES,
  PLATFORMS,
} from "@/lib/ai/types";
import { AppError } from "@/lib/errors";
import type { GenerateInput } from "@/lib/generation/engine";
import { detectImageMime } from "@/lib/generation/image";
import { parseJsonText, readBodyBytes, readBodyText, zodIssues } from "@/lib/http/body";
import type { BodyParser } from "@/lib/http/route";

/** Length in characters as people count them (code points), after trimming. */
const text = z
  .string({ error: "text is required" })
  .transform((value) => value.trim())
  .refine((value) => value.length > 0, "text must not be empty")
  .refine((value) => [...value].length <= MAX_TEXT_CHARS, `text must be at most ${MAX_TEXT_CHARS} characters`);

const keyword = z
  .string({ error: "keywords must be strings" })
  .transform((value) => value.trim())
  .refine((value) => value.length > 0, "keywords must not be empty")
  .refine((value) => [...value].length <= MAX_KEYWORD_CHARS, `each keyword must be at most ${MAX_KEYWORD_CHARS} characters`);

/** Up to MAX_KEYWORDS, deduplicated case-insensitively (the first spelling wins). */
const keywords = z
  .array(keyword, { error: "keywords must be a list of strings" })
  .max(MAX_KEYWORDS, `at most ${MAX_KEYWORDS} keywords`)
  .transform((list) => list.filter((k, i) => list.findIndex((other) => other.toLowerCase() === k.toLowerCase()) === i));

const fields = {
  text,
  mode: z.enum(MODES, { error: `mode must be one of ${MODES.join(", ")}` }),
  lang: z.enum(LANGS, { error: `lang must be one of ${LANGS.join(", ")}` }),
  platform: z.enum(PLATFORMS, { error: `platform must be one of ${PLATFORMS.join(", ")}` }).optional(),
  variants: z
    .number({ error: `variants must be a whole number from 1 to ${MAX_VARIANTS}` })
    .int(`variants must be a whole number from 1 to ${MAX_VARIANTS}`)
    .min(1, `variants must be a whole number from 1 to ${MAX_VARIANTS}`)
    .max(MAX_VARIANTS, `variants must be a whole number from 1 to ${MAX_VARIANTS}`)
    .default(1),
  emoji: z.enum(EMOJI_LEVELS, { error: `emoji must be one of ${EMOJI_LEVELS.join(", ")}` }).default("few"),
  length: z.enum(LENGTHS, { error: `length must be one of ${LENGTHS.join(", ")}` }).optional(),
  cta: z.boolean({ error: "cta must be true or false" }).default(false),
  keywords: keywords.default([]),
};

const emptyIsAbsent = (v: unknown) => (v === "" ? undefined : v);
const formBoolean = z.enum(["true", "false", "1", "0", "on"]).transform((v) => v === "true" || v === "1" || v === "on");

export const generateJsonSchema = z.strictObject({ ...fields, regenerate: z.boolean().default(false) });
const generateFormSchema = z.strictObject({
  ...fields,
  platform: z.preprocess(emptyIsAbsent, fields.platform),
  regenerate: formBoolean.default(false),
  variants: z.preprocess((v) => (typeof v === "string" && /^\d+$/.test(v) ? Number(v) : emptyIsAbsent(v)), fields.variants),
  emoji: z.preprocess(emptyIsAbsent, fields.emoji),
  length: z.preprocess(emptyIsAbsent, fields.length),
  cta: z.preprocess(emptyIsAbsent, formBoolean.default(false)),
  // A comma-separated list in a form.
  keywords: z.preprocess(
    (v) => (typeof v === "string" ? v.split(",").filter((k) => k.trim() !== "") : v),
    keywords.default([]),
  ),
});

/** The multipart body may carry the image plus a little form overhead. */
const MAX_MULTIPART_BYTES = MAX_IMAGE_BYTES + 64 * 1024;

function invalid(error: z.ZodError): AppError {
  return new AppError("invalid_input", "Some fields are not valid.", { details: zodIssues(error) });
}

/** The body of POST /api/generate: JSON, or multipart with an optional `image` (checked by magic bytes). */
export const generateBody: BodyParser<GenerateInput> = (req, { maxJsonBytes }) => parseGenerateRequest(req, maxJsonBytes);

async function parseGenerateRequest(req: Request, maxJsonBytes: number): Promise<GenerateInput> {
  const type = req.headers.get("content-type") ?? "";
  if (/^application\/json\b/i.test(type)) {
    return parseJsonText(await readBodyText(req, maxJsonBytes), generateJsonSchema);
  }
  if (/^multipart\/form-data\b/i.test(type)) {
    const declared = Number(req.headers.get("content-length") ?? "NaN");
    if (Number.isFinite(declared) && declared > MAX_MULTIPART_BYTES) {
      throw new AppError("payload_too_large", "Images must be at most 5 MB.");
    }
    // Read with a hard cap (a missing or lying Content-Length cannot make us buffer more).
    const bytes = await readBodyBytes(req, MAX_MULTIPART_BYTES);
    let form: FormData;
    try {
      form = await new Response(new Uint8Array(bytes), { headers: { "content-type": type } }).formData();
    } catch {
      throw new AppError("invalid_input", "The multipart body could not be read.");
    }
    const values: Record<string, unknown> = {};
    let image: File | undefined;
    for (const [name, value] of form.entries()) {
      if (name === "image") {
        if (typeof value === "string") throw new AppError("invalid_input", "image must be a file.");
        image = value;
      } else if (typeof value === "string") {
        values[name] = value;
      } else {
        throw new AppError("invalid_input", `Unexpected file field "${name}".`);
      }
    }
    const parsed = generateFormSchema.safeParse(values);
    if (!parsed.success) throw invalid(parsed.error);
    const input: GenerateInput = { ...parsed.data };
    if (image && image.size > 0) {
      if (image.size > MAX_IMAGE_BYTES) throw new AppError("payload_too_large", "Images must be at most 5 MB.");
      const data = new Uint8Array(await image.arrayBuffer());
      const mime = detectImageMime(data);
      if (!mime) throw new AppError("unsupported_media_type", "Images must be JPEG, PNG or WebP.");
      input.image = { bytes: data, mime };
    }
    return input;
  }
  throw new AppError("unsupported_media_type", "Send the body as application/json or multipart/form-data.");
}

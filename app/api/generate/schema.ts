import { z } from "zod";
import { LANGS, MAX_IMAGE_BYTES, MAX_TEXT_CHARS, MODES, PLATFORMS } from "@/lib/ai/types";
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

const fields = {
  text,
  mode: z.enum(MODES, { error: `mode must be one of ${MODES.join(", ")}` }),
  lang: z.enum(LANGS, { error: `lang must be one of ${LANGS.join(", ")}` }),
  platform: z.enum(PLATFORMS, { error: `platform must be one of ${PLATFORMS.join(", ")}` }).optional(),
};

export const generateJsonSchema = z.strictObject({ ...fields, regenerate: z.boolean().optional() });
const generateFormSchema = z.strictObject({
  ...fields,
  platform: z.preprocess((v) => (v === "" ? undefined : v), fields.platform),
  regenerate: z.enum(["true", "false", "1", "0", "on"]).optional(),
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
    const body = parseJsonText(await readBodyText(req, maxJsonBytes), generateJsonSchema);
    return { ...body, regenerate: body.regenerate ?? false };
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
    const { regenerate, ...rest } = parsed.data;
    const input: GenerateInput = { ...rest, regenerate: regenerate === "true" || regenerate === "1" || regenerate === "on" };
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

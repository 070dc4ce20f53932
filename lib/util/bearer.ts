import { createHash, timingSafeEqual } from "node:crypto";

/** The token of an `Authorization: Bearer …` header; "" when there is none. */
export function bearerToken(header: string | null): string {
  return /^Bearer\s+(\S+)\s*$/i.exec(header ?? "")?.[1] ?? "";
}

const digest = (value: string) => createHash("sha256").update(value, "utf8").digest();

/**
 * Whether the header's bearer token is one of `secrets`: the current one and, during a rotation,
 * the previous one (unset entries are skipped). Both sides are hashed first and every secret is
 * compared, so the time taken reveals neither which secret matched nor any length.
 */
export function bearerMatches(header: string | null, secrets: readonly (string | undefined)[]): boolean {
  const given = digest(bearerToken(header));
  let matched = false;
  for (const secret of secrets) {
    if (secret) matched = timingSafeEqual(given, digest(secret)) || matched;
  }
  return matched && bearerToken(header) !== "";
}

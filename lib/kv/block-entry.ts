import type { BlockEntry } from "./types";

/**
 * A stored blocklist entry (JSON) back to a BlockEntry, or null when it is not one: an operator
 * may edit the hash by hand, and one bad field must not break enforcement of the others.
 */
export function parseBlockEntry(raw: unknown): BlockEntry | null {
  let value: unknown;
  try {
    value = typeof raw === "string" ? JSON.parse(raw) : raw;
  } catch {
    return null;
  }
  if (typeof value !== "object" || value === null) return null;
  const e = value as Record<string, unknown>;
  if (
    typeof e.id !== "string" ||
    typeof e.target !== "string" ||
    typeof e.reason !== "string" ||
    !(typeof e.createdBy === "string" || e.createdBy === null) ||
    typeof e.createdAtMs !== "number" ||
    typeof e.expiresAtMs !== "number"
  ) {
    return null;
  }
  return {
    id: e.id,
    target: e.target,
    reason: e.reason,
    createdBy: e.createdBy,
    createdAtMs: e.createdAtMs,
    expiresAtMs: e.expiresAtMs,
  };
}

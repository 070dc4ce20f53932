import "server-only";
import { randomBytes } from "node:crypto";
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import type { Env } from "@/lib/env";
import { authMode } from "./mode";

/** 48 random bytes, base64url: 64 characters, well over HS256's 256-bit key size. */
const GENERATED_SECRET_BYTES = 48;
const MIN_SECRET_LENGTH = 32;

const generated = new Map<string, string>();

export class AuthConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "AuthConfigError";
  }
}

/** `<dirname(PGLITE_DATA_DIR)>/auth-secret`: beside the embedded data, so it lives and dies with it. */
export function localSecretPath(env: Env): string {
  return path.join(path.dirname(path.resolve(env.PGLITE_DATA_DIR)), "auth-secret");
}

function readSecretFile(file: string): string | undefined {
  try {
    const value = readFileSync(file, "utf8").trim();
    return value.length >= MIN_SECRET_LENGTH ? value : undefined;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw error;
  }
}

function loadOrCreateSecretFile(file: string): string {
  const existing = readSecretFile(file);
  if (existing) return existing;
  mkdirSync(path.dirname(file), { recursive: true });
  const secret = randomBytes(GENERATED_SECRET_BYTES).toString("base64url");
  try {
    // `wx`: when two processes start together, the second one reads the first one's secret.
    writeFileSync(file, `${secret}\n`, { mode: 0o600, flag: "wx" });
    return secret;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
    const raced = readSecretFile(file);
    if (raced) return raced;
    // An empty or truncated file left by a crash: replace it.
    writeFileSync(file, `${secret}\n`, { mode: 0o600 });
    chmodSync(file, 0o600);
    return secret;
  }
}

/**
 * The secret that signs local sign-in sessions: `AUTH_SECRET` when set; otherwise, outside
 * production, a random secret persisted next to the embedded database so sessions survive
 * restarts. Production without AUTH_SECRET (and without Supabase) refuses to guess.
 */
export function getLocalSigningSecret(env: Env): string {
  if (env.AUTH_SECRET !== undefined) return env.AUTH_SECRET;
  if (env.NODE_ENV === "production") {
    throw new AuthConfigError(
      authMode(env) === "supabase"
        ? "The local signing secret is not used when Supabase Auth is configured."
        : "AUTH_SECRET must be set in production (at least 32 characters) when Supabase Auth is not configured " +
            "(set SUPABASE_URL or SUPABASE_JWT_SECRET to use Supabase instead).",
    );
  }
  const file = localSecretPath(env);
  let secret = generated.get(file);
  if (!secret) {
    secret = loadOrCreateSecretFile(file);
    generated.set(file, secret);
  }
  return secret;
}

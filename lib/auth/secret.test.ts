import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { applyTestEnv } from "@/e2e/support/harness/env";
import { AuthConfigError, getLocalSigningSecret, localSecretPath } from "./secret";

const root = mkdtempSync(path.join(tmpdir(), "litstatus-secret-"));

afterAll(() => {
  rmSync(root, { recursive: true, force: true });
});

describe("getLocalSigningSecret", () => {
  it("uses AUTH_SECRET when set, in any environment", () => {
    const secret = "configured-secret-0123456789-abcdefghijkl";
    expect(getLocalSigningSecret(applyTestEnv({ AUTH_SECRET: secret, NODE_ENV: "production" }))).toBe(secret);
  });

  it("outside production, generates a secret beside the data directory, private to the owner, and reuses it", () => {
    const env = applyTestEnv({ NODE_ENV: "development", PGLITE_DATA_DIR: path.join(root, "a", "pglite") });
    const file = localSecretPath(env);
    expect(file).toBe(path.join(root, "a", "auth-secret"));
    const secret = getLocalSigningSecret(env);
    expect(secret).toMatch(/^[A-Za-z0-9_-]{64}$/);
    expect(readFileSync(file, "utf8").trim()).toBe(secret);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(getLocalSigningSecret(env)).toBe(secret);
  });

  it("keeps sessions across restarts: an existing secret file is read, not replaced", () => {
    const env = applyTestEnv({ NODE_ENV: "development", PGLITE_DATA_DIR: path.join(root, "b", "pglite") });
    const existing = "persisted-secret-from-an-earlier-run-0123456789";
    const file = localSecretPath(env);
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, `${existing}\n`, { mode: 0o600 });
    expect(getLocalSigningSecret(env)).toBe(existing);
  });

  it("refuses to run production without AUTH_SECRET", () => {
    const env = applyTestEnv({ NODE_ENV: "production", PGLITE_DATA_DIR: path.join(root, "c", "pglite") });
    expect(() => getLocalSigningSecret(env)).toThrow(AuthConfigError);
    expect(() => getLocalSigningSecret(env)).toThrow(/AUTH_SECRET must be set in production/);
  });
});

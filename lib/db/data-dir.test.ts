import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { DataDirError, explainOpenFailure, prepareDataDir } from "./data-dir";

/**
 * The checks on their own. A real read-only mount and a full disk, against the production
 * server, are in faults/pglite-dir.fault.test.ts (they need root to mount a tmpfs).
 */
const scratch: string[] = [];
const tempDir = () => {
  const dir = mkdtempSync(path.join(tmpdir(), "litstatus-data-dir-"));
  scratch.push(dir);
  return dir;
};
afterEach(() => {
  for (const dir of scratch.splice(0)) rmSync(dir, { recursive: true, force: true });
});

const errnoError = (fields: { code?: string; errno?: number }) => Object.assign(new Error(""), fields);

describe("prepareDataDir", () => {
  it("creates a missing directory on a writable disk with room", () => {
    const dir = path.join(tempDir(), "a", "pglite");
    prepareDataDir(dir);
    expect(existsSync(dir)).toBe(true);
  });

  it("names the directory when it cannot be created (a file is in the way)", () => {
    const base = tempDir();
    writeFileSync(path.join(base, "file"), "");
    const dir = path.join(base, "file", "pglite");
    expect(() => prepareDataDir(dir)).toThrow(DataDirError);
    expect(() => prepareDataDir(dir)).toThrow(new RegExp(`^the embedded database directory ${dir} cannot be created \\(ENOTDIR\\)`));
  });
});

describe("explainOpenFailure", () => {
  const dir = "/srv/data/pglite";

  it.each([
    [{ code: "EROFS" }, "is on a read-only file system (EROFS)"],
    [{ code: "ENOSPC" }, "has no space left on its device (ENOSPC)"],
    [{ errno: 51 }, "has no space left on its device (ENOSPC)"], // PGlite's WASM file system
    [{ code: "EACCES" }, "is not writable by this user (EACCES)"],
  ])("%o: the directory's fault, named", (fields, problem) => {
    const explained = explainOpenFailure(dir, errnoError(fields));
    expect(explained).toBeInstanceOf(DataDirError);
    expect((explained as DataDirError).message).toBe(`the embedded database directory ${dir} ${problem}: fix it, or set DATABASE_URL to use PostgreSQL`);
  });

  it("anything else is passed through unchanged", () => {
    const error = new Error("PGlite failed to initialize properly");
    expect(explainOpenFailure(dir, error)).toBe(error);
  });
});

import { createHash, randomBytes } from "node:crypto";
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { migrate, readMigrations } from "@/lib/db/migrate";
import { createPgliteDb, type PgliteDb } from "@/lib/db/pglite-client";
import { pgliteEntry } from "@/lib/db/pglite-worker";

/** Where dumps of a fresh (and of a freshly migrated) embedded database are kept between runs. */
const TEMPLATE_DIR = path.join(process.cwd(), ".data", "pglite-templates");
/** A dump's kind: with every migration applied, or none. Also the start of its file name. */
type TemplateKind = "migrated" | "empty";
const templates = new Map<TemplateKind, Promise<Uint8Array>>();

/**
 * A dump of a new embedded database, migrated or not, that openPglite starts from: PGlite's initdb
 * and the migrations cost 3–5 s of CPU per database, a load from a dump under one. The file is
 * named by the PGlite version and (migrated) every migration's name and text, so a changed
 * migration makes a new one (and removes the older ones of its kind). Test processes that find
 * none build it at once; each writes its own temporary file and renames it into place, so a
 * reader never sees half a file.
 */
function pgliteTemplate(migrated: boolean): Promise<Uint8Array> {
  const kind: TemplateKind = migrated ? "migrated" : "empty";
  let template = templates.get(kind);
  if (!template) {
    template = buildTemplate(kind);
    templates.set(kind, template);
    template.catch(() => templates.delete(kind));
  }
  return template;
}

async function buildTemplate(kind: TemplateKind): Promise<Uint8Array> {
  const migrated = kind === "migrated";
  const packageJson = path.join(path.dirname(pgliteEntry()), "..", "package.json");
  const pgliteVersion = (JSON.parse(readFileSync(packageJson, "utf8")) as { version: string }).version;
  const hash = createHash("sha256").update(`pglite ${pgliteVersion}\n`);
  if (migrated) for (const m of await readMigrations()) hash.update(`${m.file}\n${m.sql}\n`);
  const name = `${kind}-${hash.digest("hex").slice(0, 16)}.tar`;
  const file = path.join(TEMPLATE_DIR, name);
  try {
    return new Uint8Array(readFileSync(file));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
  }
  const db = await createPgliteDb();
  try {
    if (migrated) await migrate(db);
    const dump = await db.dump();
    mkdirSync(TEMPLATE_DIR, { recursive: true });
    const temporary = `${file}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`;
    writeFileSync(temporary, dump);
    renameSync(temporary, file);
    // Older dumps of this kind (earlier migrations or PGlite versions) are not read again.
    for (const other of readdirSync(TEMPLATE_DIR)) {
      if (other !== name && other.startsWith(`${kind}-`) && other.endsWith(".tar")) rmSync(path.join(TEMPLATE_DIR, other), { force: true });
    }
    return dump;
  } finally {
    await db.close();
  }
}

/**
 * A new in-memory embedded database, with every migration applied or (`migrated` false) none,
 * loaded from a dump instead of made from scratch: the same database, without initdb's CPU.
 */
export async function openPgliteCopy(migrated: boolean): Promise<PgliteDb> {
  return createPgliteDb({ template: await pgliteTemplate(migrated) });
}

import "server-only";
import { createHash } from "node:crypto";
import { getDb, type Queryable } from "@/lib/db";
import { adminEmails } from "@/lib/auth/mode";
import { getEnv } from "@/lib/env";
import { AppError } from "@/lib/errors";

/** Who did an admin write, from where: the route's viewer, client address and request id. */
export interface AdminActor {
  userId: string;
  email: string | null;
  ip: string | null;
  requestId: string;
}

/** The actor of a route's request: `adminActor(ctx)` in an admin route's handler. */
export function adminActor(ctx: { viewer: { id: string; email: string | null }; ip: string | null; requestId: string }): AdminActor {
  return { userId: ctx.viewer.id, email: ctx.viewer.email, ip: ctx.ip, requestId: ctx.requestId };
}

export interface AuditEntry {
  /** A short verb phrase: `blocklist.add`, `user.update`, `breaker.force_open`, … */
  action: string;
  /** What it acted on: a user id, an address, `breaker`, … */
  target: string | null;
  before?: unknown;
  after?: unknown;
}

export interface AuditRow {
  id: string;
  createdAt: string;
  actorId: string | null;
  actorEmail: string | null;
  action: string;
  target: string | null;
  before: unknown;
  after: unknown;
  ip: string | null;
  requestId: string | null;
  prevHash: string;
  hash: string;
}

/** The chain starts from this hash (there is no row before the first). */
export const GENESIS_HASH = "0".repeat(64);

/** JSON with object keys sorted at every level: the same content always hashes the same. */
function canonical(value: unknown): string {
  if (value === undefined || value === null) return "null";
  if (Array.isArray(value)) return `[${value.map(canonical).join(",")}]`;
  if (typeof value === "object") {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(",")}}`;
  }
  return JSON.stringify(value);
}

/** A row's hash: the previous hash and every column of its own content, canonically. */
export function auditHash(prevHash: string, row: Omit<AuditRow, "id" | "prevHash" | "hash">): string {
  const content = canonical({
    createdAt: row.createdAt,
    actorId: row.actorId,
    actorEmail: row.actorEmail,
    action: row.action,
    target: row.target,
    before: row.before ?? null,
    after: row.after ?? null,
    ip: row.ip,
    requestId: row.requestId,
  });
  return createHash("sha256").update(`${prevHash}\n${content}`).digest("hex");
}

/** jsonb keeps values but not key order or `undefined`: store what the hash will read back. */
function normalized(value: unknown): unknown {
  return value === undefined ? null : (JSON.parse(JSON.stringify(value)) as unknown);
}

/**
 * Appends one entry to the audit log, inside `tx` (the caller's transaction, so the change and
 * its record commit together). Writers take the table's SHARE ROW EXCLUSIVE lock, which only
 * one transaction holds at a time: concurrent writes line up and the chain never forks. Reads
 * are not blocked.
 */
export async function appendAudit(tx: Queryable, actor: AdminActor, entry: AuditEntry): Promise<AuditRow> {
  // The data layer's own check, beside the route policy: only an enabled admin's write lands.
  // Admins are those with the role, or named in ADMIN_EMAILS (as getViewer decides).
  const [profile] = await tx.query<{ role: string; email: string | null }>(
    `select role, lower(email) as email from litstatus.profiles where user_id = $1 and disabled_at is null`,
    [actor.userId],
  );
  const named = profile?.email != null && adminEmails(getEnv()).has(profile.email);
  if (profile?.role !== "admin" && !named) throw new AppError("forbidden", "Only an admin can do this.");
  await tx.query(`lock table litstatus.admin_audit_log in share row exclusive mode`);
  const [last] = await tx.query<{ hash: string }>(`select hash from litstatus.admin_audit_log order by id desc limit 1`);
  const prevHash = last?.hash ?? GENESIS_HASH;
  const content = {
    createdAt: new Date().toISOString(),
    actorId: actor.userId,
    actorEmail: actor.email,
    action: entry.action,
    target: entry.target,
    before: normalized(entry.before),
    after: normalized(entry.after),
    ip: actor.ip,
    requestId: actor.requestId,
  };
  const hash = auditHash(prevHash, content);
  const [row] = await tx.query<{ id: string }>(
    `insert into litstatus.admin_audit_log
       (created_at, actor_id, actor_email, action, target, before, after, ip, request_id, prev_hash, hash)
     values ($1, $2, $3, $4, $5, ($6::text)::jsonb, ($7::text)::jsonb, $8, $9, $10, $11)
     returning id::text as id`,
    [
      content.createdAt,
      content.actorId,
      content.actorEmail,
      content.action,
      content.target,
      JSON.stringify(content.before),
      JSON.stringify(content.after),
      content.ip,
      content.requestId,
      prevHash,
      hash,
    ],
  );
  return { id: row!.id, ...content, prevHash, hash };
}

/**
 * An admin write and its audit entry in one transaction: `work` changes the database and says
 * what it changed (`before`/`after`); if it throws, neither lands.
 */
export async function audited<T>(
  actor: AdminActor,
  action: string,
  target: string | null,
  work: (tx: Queryable) => Promise<{ result: T; before?: unknown; after?: unknown }>,
): Promise<T> {
  const db = await getDb();
  return db.transaction(async (tx) => {
    const { result, before, after } = await work(tx);
    await appendAudit(tx, actor, { action, target, before, after });
    return result;
  });
}

/**
 * Records a write that happened outside PostgreSQL (the blocklist and breaker in Redis): the
 * change is made first, then recorded; a failure to record is the caller's error to answer.
 */
export async function recordAudit(actor: AdminActor, entry: AuditEntry): Promise<AuditRow> {
  const db = await getDb();
  return db.transaction((tx) => appendAudit(tx, actor, entry));
}

/** Ordered by the table's `a.id` (a bigint), never the text alias, which would sort "10" before "2". */
const ROW_COLUMNS = `a.id::text as id, created_at as "createdAt", actor_id as "actorId", actor_email as "actorEmail",
  action, target, before, after, ip, request_id as "requestId", prev_hash as "prevHash", hash`;

function toRow(raw: AuditRow & { createdAt: string | Date }): AuditRow {
  return { ...raw, createdAt: new Date(raw.createdAt).toISOString() };
}

export interface AuditFilters {
  actor?: string;
  action?: string;
  from?: Date;
  to?: Date;
  limit: number;
  offset: number;
}

/** The log, newest first; `actor` matches the actor's id or email, `action` exactly or as a `prefix.`. */
export async function listAudit(filters: AuditFilters): Promise<{ items: AuditRow[]; total: number }> {
  const db = await getDb();
  const where = `where ($1::text is null or actor_id::text = $1 or lower(actor_email) = lower($1))
      and ($2::text is null or action = $2 or action like $2 || '.%')
      and ($3::timestamptz is null or created_at >= $3)
      and ($4::timestamptz is null or created_at < $4)`;
  const params = [filters.actor ?? null, filters.action ?? null, filters.from?.toISOString() ?? null, filters.to?.toISOString() ?? null];
  const [rows, [count]] = await Promise.all([
    db.query<AuditRow>(`select ${ROW_COLUMNS} from litstatus.admin_audit_log a ${where} order by a.id desc limit $5 offset $6`, [
      ...params,
      filters.limit,
      filters.offset,
    ]),
    db.query<{ total: number }>(`select count(*)::int as total from litstatus.admin_audit_log ${where}`, params),
  ]);
  return { items: rows.map(toRow), total: count?.total ?? 0 };
}

/** Every row in a date range, oldest first (the CSV export). */
export async function auditRange(from: Date | undefined, to: Date | undefined): Promise<AuditRow[]> {
  const db = await getDb();
  const rows = await db.query<AuditRow>(
    `select ${ROW_COLUMNS} from litstatus.admin_audit_log a
      where ($1::timestamptz is null or created_at >= $1) and ($2::timestamptz is null or created_at < $2)
      order by a.id`,
    [from?.toISOString() ?? null, to?.toISOString() ?? null],
  );
  return rows.map(toRow);
}

const VERIFY_PAGE = 1000;

/**
 * Walks the whole chain in id order, a page at a time: each row must link to the previous
 * row's hash, and its own hash must match its content. The first row that does not is named.
 */
export async function verifyAuditChain(): Promise<{ ok: boolean; rows: number; firstBrokenId?: string }> {
  const db = await getDb();
  let prevHash = GENESIS_HASH;
  let afterId = "0";
  let rows = 0;
  for (;;) {
    const page = await db.query<AuditRow>(
      `select ${ROW_COLUMNS} from litstatus.admin_audit_log a where a.id > $1::bigint order by a.id limit $2`,
      [afterId, VERIFY_PAGE],
    );
    for (const raw of page) {
      const row = toRow(raw);
      rows += 1;
      if (row.prevHash !== prevHash || auditHash(prevHash, row) !== row.hash) return { ok: false, rows, firstBrokenId: row.id };
      prevHash = row.hash;
    }
    if (page.length < VERIFY_PAGE) return { ok: true, rows };
    afterId = page[page.length - 1]!.id;
  }
}

import "server-only";
import { BlockList } from "node:net";
import { z } from "zod";
import { recordAudit, type AdminActor } from "@/lib/admin/audit";
import { getDb } from "@/lib/db";
import { AppError } from "@/lib/errors";
import { blockAddress, blockedFor, listBlocks, MAX_BLOCK_TTL_SECONDS, parseTarget, unblock, type BlockEntry } from "@/lib/security/blocklist";

/**
 * The console's security area (PRODUCT §6–§7, issue 9 §5): security events with filters and
 * paging, a daily report by type and severity, the top offending addresses and users, and the
 * blocklist's admin side (list, add, remove; each write audited). Every aggregate is computed in
 * SQL; nothing loads raw rows beyond one page.
 */

export const SEVERITIES = ["info", "warn", "error", "critical"] as const;
export type Severity = (typeof SEVERITIES)[number];

/** The event types PRODUCT §6 names (the filter accepts any well-formed type; these are offered). */
export const KNOWN_EVENT_TYPES = [
  "rate_limited",
  "quota_exceeded",
  "auth_failure",
  "forbidden",
  "ip_blocked",
  "content_safety_violation",
  "invalid_input",
  "csrf_rejected",
  "high_load_reject",
  "upstream_failure",
  "breaker_open",
  "model_invalid_response",
  "csp_violation",
] as const;

export const EVENTS_PAGE_MAX = 200;
export const REPORT_MAX_DAYS = 90;
const TOP_LIMIT = 10;

const INSTANT = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})?)?$/i;

/**
 * An instant in ISO-8601: `2026-11-29`, `2026-11-29T09:00` (no zone: UTC, as the console's
 * datetime-local inputs send it), `2026-11-29T09:00:00Z`, `…+01:00`. Anything else is null.
 */
export function parseInstant(raw: string): Date | null {
  const m = INSTANT.exec(raw.trim());
  if (!m) return null;
  const [, y, mo, d, h, mi, s, zone] = m;
  // PostgreSQL has no year 0; nothing before 1900 is a security event's time anyway.
  if (Number(y) < 1900 || Number(mo) < 1 || Number(mo) > 12 || Number(d) < 1 || Number(d) > 31) return null;
  if (h !== undefined && (Number(h) > 23 || Number(mi) > 59 || Number(s ?? 0) > 59)) return null;
  const text = h === undefined ? `${y}-${mo}-${d}T00:00:00Z` : `${raw.trim().replace(" ", "T")}${zone ? "" : "Z"}`;
  const ms = Date.parse(text);
  if (!Number.isFinite(ms)) return null;
  const date = new Date(ms);
  // 2026-02-31 parses in some engines by rolling over: refuse a date that is not the one written.
  if (h === undefined && date.getUTCDate() !== Number(d)) return null;
  return date;
}

const instant = z
  .string()
  .max(40)
  .transform((raw, ctx) => {
    const date = parseInstant(raw);
    if (!date) {
      ctx.addIssue({ code: "custom", message: "Use an ISO-8601 date or time, e.g. 2026-11-29T09:00:00Z." });
      return z.NEVER;
    }
    return date;
  });

const ipOrCidr = z
  .string()
  .max(64)
  .refine((raw) => parseTarget(raw) !== null, "Give an IP address or a CIDR range.")
  .transform((raw) => {
    const t = parseTarget(raw)!;
    return `${t.address}/${t.prefix}`;
  });

/** `GET /api/admin/security-events`'s query (also the console page's filter form). */
export const securityEventsQuery = z
  .strictObject({
    type: z.string().regex(/^[a-z0-9_.:-]{1,64}$/i, "An event type: letters, digits, _ . : -").optional(),
    severity: z.enum(SEVERITIES).optional(),
    ip: ipOrCidr.optional(),
    userId: z.uuid().optional(),
    from: instant.optional(),
    to: instant.optional(),
    limit: z.coerce.number().int().min(1).max(EVENTS_PAGE_MAX).default(50),
    offset: z.coerce.number().int().min(0).max(1_000_000).default(0),
  })
  .refine((q) => !q.from || !q.to || q.from < q.to, { message: "from must be before to.", path: ["from"] });

export type SecurityEventsFilters = z.output<typeof securityEventsQuery>;

export interface SecurityEventRow {
  id: string;
  createdAt: string;
  type: string;
  severity: Severity;
  ip: string | null;
  userId: string | null;
  userEmail: string | null;
  path: string | null;
  userAgent: string | null;
  meta: Record<string, unknown>;
}

const iso = (value: string | Date | null): string | null => (value === null ? null : new Date(value).toISOString());

/** Events newest first, filtered exactly (`ip` matches an address or any address in a CIDR), with the total. */
export async function listSecurityEvents(filters: SecurityEventsFilters): Promise<{ items: SecurityEventRow[]; total: number; limit: number; offset: number }> {
  const db = await getDb();
  const where = `where ($1::text is null or e.event_type = $1)
      and ($2::text is null or e.severity = $2)
      and ($3::inet is null or e.ip <<= $3::inet)
      and ($4::uuid is null or e.user_id = $4::uuid)
      and ($5::timestamptz is null or e.created_at >= $5)
      and ($6::timestamptz is null or e.created_at < $6)`;
  const params = [
    filters.type ?? null,
    filters.severity ?? null,
    filters.ip ?? null,
    filters.userId ?? null,
    filters.from?.toISOString() ?? null,
    filters.to?.toISOString() ?? null,
  ];
  const [rows, [count]] = await Promise.all([
    db.query<Omit<SecurityEventRow, "createdAt"> & { createdAt: string | Date }>(
      `select e.id::text as id, e.created_at as "createdAt", e.event_type as type, e.severity, host(e.ip) as ip,
              e.user_id::text as "userId", u.email as "userEmail", e.path, e.user_agent as "userAgent", e.meta
         from litstatus.security_events e left join auth.users u on u.id = e.user_id
         ${where}
        order by e.created_at desc, e.id desc
        limit $7 offset $8`,
      [...params, filters.limit, filters.offset],
    ),
    db.query<{ total: number }>(`select count(*)::int as total from litstatus.security_events e ${where}`, params),
  ]);
  return {
    items: rows.map((r) => ({ ...r, createdAt: iso(r.createdAt)!, meta: r.meta ?? {} })),
    total: count?.total ?? 0,
    limit: filters.limit,
    offset: filters.offset,
  };
}

export const securityReportQuery = z.strictObject({
  days: z.coerce.number().int().min(1).max(REPORT_MAX_DAYS).default(7),
});

export interface ReportRow {
  /** The UTC day, `YYYY-MM-DD`. */
  day: string;
  type: string;
  severity: Severity;
  count: number;
}

export interface TopIp {
  ip: string;
  count: number;
  lastSeen: string;
  /** The blocklist entry holding this address now, if any. */
  blockedBy: string | null;
}

export interface TopUser {
  userId: string;
  email: string | null;
  count: number;
  lastSeen: string;
}

export interface SecurityReport {
  days: number;
  /** Start of the first UTC day counted (inclusive) and now. */
  from: string;
  to: string;
  /** Counts per UTC day × type × severity, newest day first, then by count. */
  daily: ReportRow[];
  /** Every security event counts; the last hour and the last 24 hours, at most 10 each. */
  top: { hour: { ips: TopIp[]; users: TopUser[] }; day: { ips: TopIp[]; users: TopUser[] } };
}

async function topOffenders(since: Date): Promise<{ ips: TopIp[]; users: TopUser[] }> {
  const db = await getDb();
  const [ips, users] = await Promise.all([
    db.query<{ ip: string; count: number; lastSeen: string | Date }>(
      `select host(ip) as ip, count(*)::int as count, max(created_at) as "lastSeen"
         from litstatus.security_events
        where created_at >= $1 and ip is not null
        group by ip order by count(*) desc, max(created_at) desc limit $2`,
      [since.toISOString(), TOP_LIMIT],
    ),
    db.query<{ userId: string; email: string | null; count: number; lastSeen: string | Date }>(
      `select t.user_id::text as "userId", u.email, t.count, t.last_seen as "lastSeen"
         from (select user_id, count(*)::int as count, max(created_at) as last_seen
                 from litstatus.security_events
                where created_at >= $1 and user_id is not null
                group by user_id order by count(*) desc, max(created_at) desc limit $2) t
         left join auth.users u on u.id = t.user_id
        order by t.count desc, t.last_seen desc`,
      [since.toISOString(), TOP_LIMIT],
    ),
  ]);
  return {
    ips: await Promise.all(
      ips.map(async (r) => ({ ip: r.ip, count: r.count, lastSeen: iso(r.lastSeen)!, blockedBy: (await blockedFor(r.ip))?.id ?? null })),
    ),
    users: users.map((r) => ({ userId: r.userId, email: r.email, count: r.count, lastSeen: iso(r.lastSeen)! })),
  };
}

/** The daily report over `days` UTC days (today included) and the top offenders now. */
export async function securityReport(days: number, now: Date = new Date()): Promise<SecurityReport> {
  const db = await getDb();
  const start = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate()) - (days - 1) * 86_400_000);
  const [daily, hour, day] = await Promise.all([
    db.query<ReportRow>(
      `select to_char(created_at at time zone 'UTC', 'YYYY-MM-DD') as day, event_type as type, severity, count(*)::int as count
         from litstatus.security_events
        where created_at >= $1
        group by 1, 2, 3
        order by 1 desc, 4 desc, 2, 3`,
      [start.toISOString()],
    ),
    topOffenders(new Date(now.getTime() - 3_600_000)),
    topOffenders(new Date(now.getTime() - 86_400_000)),
  ]);
  return { days, from: start.toISOString(), to: now.toISOString(), daily, top: { hour, day } };
}

// ---- The blocklist's admin side ----

export interface BlocklistItem {
  id: string;
  target: string;
  reason: string;
  createdBy: string | null;
  createdAt: string;
  expiresAt: string;
}

function toItem(entry: BlockEntry): BlocklistItem {
  return {
    id: entry.id,
    target: entry.target,
    reason: entry.reason,
    createdBy: entry.createdBy,
    createdAt: new Date(entry.createdAtMs).toISOString(),
    expiresAt: new Date(entry.expiresAtMs).toISOString(),
  };
}

/** `POST /api/admin/blocklist`'s body: exactly one of `ip` (an address) or `cidr` (a range). */
export const blockBody = z
  .strictObject({
    ip: z
      .string()
      .max(64)
      .refine((raw) => !raw.includes("/") && parseTarget(raw) !== null, "Give one IP address (use cidr for a range).")
      .optional(),
    cidr: z
      .string()
      .max(64)
      .refine((raw) => raw.includes("/") && parseTarget(raw) !== null, "Give a CIDR range, e.g. 203.0.113.0/24.")
      .optional(),
    reason: z.string().trim().min(1, "Give a reason.").max(500),
    ttlSeconds: z.number().int().min(60).max(MAX_BLOCK_TTL_SECONDS),
  })
  .refine((b) => (b.ip === undefined) !== (b.cidr === undefined), { message: "Give either ip or cidr, not both.", path: ["ip"] });

export type BlockBody = z.output<typeof blockBody>;

/** Entries in force now, newest first. */
export async function listBlocklist(): Promise<BlocklistItem[]> {
  return (await listBlocks()).map(toItem);
}

/** Which of these addresses the blocklist holds now (the console marks them instead of offering "Block"). */
export async function blockedAddresses(ips: readonly (string | null)[]): Promise<Set<string>> {
  const unique = [...new Set(ips.filter((ip): ip is string => ip !== null))];
  const hits = await Promise.all(unique.map(async (ip) => ((await blockedFor(ip)) ? ip : null)));
  return new Set(hits.filter((ip): ip is string => ip !== null));
}

/** Whether `target` (an address or CIDR) covers `ip`. */
function covers(target: string, ip: string): boolean {
  const t = parseTarget(target);
  const own = parseTarget(ip);
  if (!t || !own) return false;
  const list = new BlockList();
  list.addSubnet(t.address, t.prefix, t.family);
  return list.check(own.address, own.family);
}

/**
 * Blocks an address or range (enforced on this instance at once, on every other within the
 * blocklist's refresh interval) and records `blocklist.add`. An entry that would lock the
 * acting admin out of the console is refused. If the audit record cannot be written, the block
 * is taken back: no admin write goes unrecorded.
 */
export async function addBlock(actor: AdminActor, body: BlockBody): Promise<BlocklistItem> {
  const target = (body.ip ?? body.cidr)!;
  if (actor.ip && covers(target, actor.ip)) {
    throw new AppError("invalid_input", "This entry would block your own address and lock you out of the console.");
  }
  const entry = await blockAddress({ target, reason: body.reason, ttlSeconds: body.ttlSeconds, createdBy: actor.email ?? actor.userId });
  const item = toItem(entry);
  try {
    await recordAudit(actor, { action: "blocklist.add", target: item.target, before: null, after: item });
  } catch (error) {
    await unblock(entry.id).catch(() => false);
    throw error;
  }
  return item;
}

/** Removes an entry by id and records `blocklist.remove`; 404 for an id in force nowhere. */
export async function removeBlock(actor: AdminActor, id: string): Promise<BlocklistItem> {
  const existing = (await listBlocks()).find((e) => e.id === id);
  if (!existing || !(await unblock(id))) throw new AppError("not_found", "No blocklist entry with this id.");
  const item = toItem(existing);
  try {
    await recordAudit(actor, { action: "blocklist.remove", target: item.target, before: item, after: null });
  } catch (error) {
    // Put it back as it was: the removal must not stand unrecorded.
    const ttlSeconds = Math.ceil((existing.expiresAtMs - Date.now()) / 1000);
    if (ttlSeconds > 0) await blockAddress({ target: existing.target, reason: existing.reason, ttlSeconds, createdBy: existing.createdBy }).catch(() => null);
    throw error;
  }
  return item;
}

import { isIP } from "node:net";
import type { Db, SqlParam } from "@/lib/db/types";
import { logFor } from "@/lib/observability/logger";
import { countSecurityEvent, trackEventWriter } from "@/lib/observability/metrics";
import { describeError } from "@/lib/util/describe-error";
import { withTimeout } from "@/lib/util/with-timeout";

/**
 * Security events, funnel events and generation records, written off the request path in
 * batches. Enqueueing is synchronous and never throws; a timer drains the buffer with one
 * multi-row INSERT per table. A database outage keeps everything (in order) in a bounded
 * buffer and retries with exponential backoff; when the buffer is full the oldest records are
 * dropped and counted. A record the database rejects for its data (SQLSTATE class 22 or 23) is
 * isolated by splitting its batch and dropped alone, so one poison row never blocks the queue.
 */

export type Severity = "info" | "warn" | "error" | "critical";

export interface SecurityEventInput {
  eventType: string;
  severity: Severity;
  ip?: string | null;
  userId?: string | null;
  path?: string | null;
  userAgent?: string | null;
  meta?: Record<string, unknown>;
}

export interface FunnelEventInput {
  event: string;
  userId?: string | null;
  sessionId?: string | null;
  path?: string | null;
  lang?: string | null;
  variant?: string | null;
  referrer?: string | null;
  utmSource?: string | null;
  utmMedium?: string | null;
  utmCampaign?: string | null;
  meta?: Record<string, unknown>;
}

export type GenerationStatus = "pending" | "complete" | "failed";

export interface GenerationRecord {
  id: string;
  userId: string | null;
  status: GenerationStatus;
  mode: "standard" | "savage" | "rizz";
  lang: "en" | "zh";
  platform: string | null;
  /** Signed-in users only (the table requires a user for stored text); guests' input is only hashed. */
  inputText: string | null;
  inputHash: string;
  hasImage: boolean;
  caption?: string | null;
  hashtags?: string[];
  /** Every variant as answered ([{ caption, hashtags, hook, checks }]); the first is `caption`/`hashtags`. */
  variants?: unknown[] | null;
  detectedObject?: string | null;
  provider?: string | null;
  model?: string | null;
  cached: boolean;
  latencyMs?: number | null;
  promptTokens?: number | null;
  completionTokens?: number | null;
  errorCode?: string | null;
  requestId?: string | null;
  createdAt: Date;
  completedAt?: Date | null;
}

export interface RecordWriterStats {
  /** Records waiting to be written (including a batch being written right now). */
  buffered: number;
  /** Records given up on: evicted from a full buffer, rejected by the database, or unusable. */
  dropped: number;
  /** Records written (several records for one generation in one batch each count). */
  written: number;
  /** Write attempts that failed for a reason other than a rejected record (an outage). */
  failedFlushes: number;
}

export interface RecordWriter {
  securityEvent(event: SecurityEventInput): void;
  funnelEvent(event: FunnelEventInput): void;
  generation(record: GenerationRecord): void;
  /** Resolves (never rejects) once everything enqueued before the call is written, or an attempt failed. */
  flush(): Promise<void>;
  stats(): RecordWriterStats;
  /** A final flush; stops the timer. Records enqueued afterwards are dropped. */
  close(): Promise<void>;
}

/** The log calls the writer makes; a pino logger fits. */
export interface RecordWriterLog {
  info(fields: object, message: string): void;
  warn(fields: object, message: string): void;
  error(fields: object, message: string): void;
}

export interface RecordWriterOptions {
  getDb: () => Promise<Db>;
  /** Most records held while the database is slow or down; beyond it the oldest are dropped. */
  maxBuffer?: number;
  /** Most records per write attempt; a full batch is written at once instead of on the timer. */
  batchSize?: number;
  flushIntervalMs?: number;
  /** Cap of the exponential backoff between attempts during an outage. */
  maxRetryDelayMs?: number;
  /** A write that takes longer counts as failed (it is retried; the write is at least once). */
  writeTimeoutMs?: number;
  /** Default: `logFor("events")`. */
  log?: RecordWriterLog;
  now?: () => number;
}

type Kind = "security_event" | "funnel_event" | "generation";

interface Item {
  seq: number;
  kind: Kind;
  params: SqlParam[];
  /** What the record is, for logs: an event type or a generation status; never personal data. */
  label: string;
  /** Generations: the id records are collapsed on, and the status. */
  key?: string;
  status?: GenerationStatus;
  state: "queued" | "inflight" | "written" | "dropped";
  /** Evicted from a full buffer while being written: not retried if this attempt fails. */
  evicted: boolean;
}

interface Row {
  params: SqlParam[];
  items: Item[];
  label: string;
  status?: GenerationStatus;
}

interface TableSpec {
  kind: Kind;
  table: string;
  columns: readonly string[];
  /** One placeholder expression per column, given `$n`. Params are bound as text/int/bool and cast in SQL. */
  casts: readonly ((p: string) => string)[];
  suffix: string;
  /** The user_id param, for security/funnel events: a vanished user keeps the event, without the user. */
  userIdIndex?: number;
}

const asText = (p: string) => `${p}::text`;
const asInet = (p: string) => `(${p}::text)::inet`;
const asUuid = (p: string) => `(${p}::text)::uuid`;
const asJsonb = (p: string) => `(${p}::text)::jsonb`;
const asTimestamptz = (p: string) => `(${p}::text)::timestamptz`;
const asTextArray = (p: string) => `(${p}::text)::text[]`;
const asInt = (p: string) => `${p}::integer`;
const asBool = (p: string) => `${p}::boolean`;

const SECURITY: TableSpec = {
  kind: "security_event",
  table: "litstatus.security_events",
  columns: ["event_type", "severity", "ip", "user_id", "path", "user_agent", "meta", "created_at"],
  casts: [asText, asText, asInet, asUuid, asText, asText, asJsonb, asTimestamptz],
  suffix: "",
  userIdIndex: 3,
};

const FUNNEL: TableSpec = {
  kind: "funnel_event",
  table: "litstatus.funnel_events",
  columns: [
    "event",
    "user_id",
    "session_id",
    "path",
    "lang",
    "variant",
    "referrer",
    "utm_source",
    "utm_medium",
    "utm_campaign",
    "meta",
    "created_at",
  ],
  casts: [asText, asUuid, asText, asText, asText, asText, asText, asText, asText, asText, asJsonb, asTimestamptz],
  suffix: "",
  userIdIndex: 1,
};

/** Columns a later record for the same generation may change; the rest are fixed at creation. */
const GENERATION_UPDATED = [
  "status",
  "caption",
  "hashtags",
  "variants",
  "detected_object",
  "provider",
  "model",
  "cached",
  "latency_ms",
  "prompt_tokens",
  "completion_tokens",
  "error_code",
  "request_id",
  "completed_at",
];

const GENERATION: TableSpec = {
  kind: "generation",
  table: "litstatus.generations",
  columns: [
    "id",
    "user_id",
    "status",
    "mode",
    "lang",
    "platform",
    "input_text",
    "input_hash",
    "has_image",
    "caption",
    "hashtags",
    "variants",
    "detected_object",
    "provider",
    "model",
    "cached",
    "latency_ms",
    "prompt_tokens",
    "completion_tokens",
    "error_code",
    "request_id",
    "created_at",
    "completed_at",
  ],
  casts: [
    asUuid,
    asUuid,
    asText,
    asText,
    asText,
    asText,
    asText,
    asText,
    asBool,
    asText,
    asTextArray,
    asJsonb,
    asText,
    asText,
    asText,
    asBool,
    asInt,
    asInt,
    asInt,
    asText,
    asText,
    asTimestamptz,
    asTimestamptz,
  ],
  // A finished generation never goes back to pending (nor changes again).
  suffix:
    ` on conflict (id) do update set ${GENERATION_UPDATED.map((c) => `${c} = excluded.${c}`).join(", ")}` +
    " where litstatus.generations.status = 'pending'",
};

const SPECS: readonly TableSpec[] = [SECURITY, FUNNEL, GENERATION];

/** Rows per statement (one JSON parameter); a longer list is written in slices. */
const MAX_ROWS_PER_STATEMENT = 1_000;
const OVERFLOW_WARN_INTERVAL_MS = 10_000;
const RETRY_BASE_MS = 100;
const MAX_META_CHARS = 16_384;

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Text without NUL characters (PostgreSQL rejects them), cut to `max` characters (code points, as char_length counts). */
function clip(value: string | null | undefined, max: number): string | null {
  if (value === null || value === undefined) return null;
  let s = String(value);
  if (s.includes("\u0000")) s = s.replaceAll("\u0000", "");
  if (s.length <= max) return s;
  let out = "";
  let n = 0;
  for (const ch of s) {
    if (n++ >= max) break;
    out += ch;
  }
  return out;
}

function text(value: string | null | undefined): string | null {
  return clip(value, Number.MAX_SAFE_INTEGER);
}

function uuidOrNull(value: string | null | undefined): string | null {
  return typeof value === "string" && UUID_RE.test(value) ? value : null;
}

/** A literal inet accepts, or null: an unparsable address must not cost the whole event. */
function ipOrNull(value: string | null | undefined): string | null {
  if (typeof value !== "string") return null;
  let s = value.trim();
  const zone = s.indexOf("%");
  if (zone >= 0) s = s.slice(0, zone);
  return isIP(s) ? s : null;
}

function serializeMeta(meta: Record<string, unknown> | undefined): string {
  if (meta === undefined || meta === null) return "{}";
  try {
    const json = JSON.stringify(meta, (_key, value: unknown) => {
      if (typeof value === "string") return value.includes("\u0000") ? value.replaceAll("\u0000", "") : value;
      if (typeof value === "bigint") return value.toString();
      return value;
    });
    if (typeof json !== "string" || !json.startsWith("{")) return "{}";
    if (json.length > MAX_META_CHARS) return JSON.stringify({ truncated: true, chars: json.length });
    return json;
  } catch {
    return JSON.stringify({ unserializable: true });
  }
}

function iso(value: Date | null | undefined, what: string): string | null {
  if (value === null || value === undefined) return null;
  if (!(value instanceof Date) || Number.isNaN(value.getTime())) throw new TypeError(`${what} is not a valid date`);
  return value.toISOString();
}

function int(value: number | null | undefined): number | null {
  if (typeof value !== "number" || !Number.isFinite(value)) return null;
  return Math.min(2_147_483_647, Math.max(-2_147_483_648, Math.round(value)));
}

/** A PostgreSQL array literal, bound as text and cast to text[] (the same on both drivers). */
function textArrayLiteral(values: readonly unknown[] | undefined): string {
  if (!values || values.length === 0) return "{}";
  const parts = values.map((v) => `"${String(v).replaceAll("\u0000", "").replace(/[\\"]/g, "\\$&")}"`);
  return `{${parts.join(",")}}`;
}

function securityParams(e: SecurityEventInput, at: string): SqlParam[] {
  return [
    clip(e.eventType, 64),
    text(e.severity),
    ipOrNull(e.ip),
    uuidOrNull(e.userId),
    clip(e.path, 512),
    clip(e.userAgent, 512),
    serializeMeta(e.meta),
    at,
  ];
}

function funnelParams(e: FunnelEventInput, at: string): SqlParam[] {
  return [
    clip(e.event, 64),
    uuidOrNull(e.userId),
    clip(e.sessionId, 128),
    clip(e.path, 512),
    clip(e.lang, 8),
    clip(e.variant, 64),
    clip(e.referrer, 1024),
    clip(e.utmSource, 128),
    clip(e.utmMedium, 128),
    clip(e.utmCampaign, 128),
    serializeMeta(e.meta),
    at,
  ];
}

function generationParams(g: GenerationRecord): SqlParam[] {
  return [
    text(g.id),
    g.userId === null || g.userId === undefined ? null : text(g.userId),
    text(g.status),
    text(g.mode),
    text(g.lang),
    text(g.platform),
    clip(g.inputText, 2000),
    text(g.inputHash),
    Boolean(g.hasImage),
    text(g.caption),
    textArrayLiteral(g.hashtags),
    g.variants && g.variants.length > 0 ? JSON.stringify(g.variants) : null,
    text(g.detectedObject),
    text(g.provider),
    text(g.model),
    Boolean(g.cached),
    int(g.latencyMs),
    int(g.promptTokens),
    int(g.completionTokens),
    text(g.errorCode),
    text(g.requestId),
    iso(g.createdAt, "createdAt"),
    iso(g.completedAt, "completedAt"),
  ];
}

function sqlstate(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === "string" ? code : undefined;
}

/** Data exceptions (22) and integrity violations (23) are about the row, not the database. */
function isRowError(error: unknown): boolean {
  const code = sqlstate(error);
  return code !== undefined && /^2[23][0-9A-Z]{3}$/.test(code);
}

function constraintOf(error: unknown): string | undefined {
  const e = error as { constraint_name?: unknown; constraint?: unknown } | null;
  const name = e?.constraint_name ?? e?.constraint;
  return typeof name === "string" ? name : undefined;
}

/**
 * One constant statement per table: the batch's rows go as one JSON parameter (an array of rows,
 * each an array of column values in `columns` order) and are cast in SQL as before. A multi-row
 * VALUES list with a placeholder per value made the database parse and plan a new statement of
 * up to 200 rows and 4,600 parameters on every flush: on embedded PGlite a flush of 200 cached
 * generates' records took 47 ms of its thread, and 32-34 ms this way (docs/PERFORMANCE.md, change 11).
 * Rows go in in array order (the function scan keeps it; the tests check serial ids follow it).
 */
const INSERT_SQL = new Map<TableSpec, string>();
function insertSql(spec: TableSpec): string {
  let sql = INSERT_SQL.get(spec);
  if (sql === undefined) {
    const values = spec.casts.map((cast, c) => cast(`(r.row->>${c})`)).join(", ");
    sql =
      `insert into ${spec.table} (${spec.columns.join(", ")}) ` +
      `select ${values} from jsonb_array_elements(($1::text)::jsonb) as r(row)${spec.suffix}`;
    INSERT_SQL.set(spec, sql);
  }
  return sql;
}

// A lone UTF-16 surrogate: bound as a text parameter it became U+FFFD, but JSON cannot carry it.
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

function jsonValue(value: SqlParam): string | number | boolean | null {
  if (value === null || typeof value === "number" || typeof value === "boolean") return value;
  if (typeof value === "string") return /[\uD800-\uDFFF]/.test(value) ? value.replace(LONE_SURROGATE, "\uFFFD") : value;
  if (value instanceof Date) return value.toISOString();
  // Uint8Array and arrays have no column here (hashtags go as a text[] literal).
  throw new TypeError("event writer: unsupported parameter type");
}

function rowsJson(rows: readonly Row[]): string {
  return JSON.stringify(rows.map((row) => row.params));
}

/** A FIFO with cheap removal at the front. */
class Queue {
  private items: Item[] = [];
  private head = 0;

  get length(): number {
    return this.items.length - this.head;
  }

  push(item: Item): void {
    this.items.push(item);
  }

  peek(): Item | undefined {
    return this.items[this.head];
  }

  shift(): Item | undefined {
    if (this.head >= this.items.length) return undefined;
    const item = this.items[this.head];
    this.items[this.head] = undefined as unknown as Item;
    this.head++;
    if (this.head >= 1024 && this.head * 2 >= this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return item;
  }

  /** Puts `front` (in its order) before everything queued. */
  unshiftAll(front: Item[]): void {
    if (front.length === 0) return;
    this.items = front.concat(this.items.slice(this.head));
    this.head = 0;
  }
}

export function createRecordWriter(options: RecordWriterOptions): RecordWriter {
  const maxBuffer = Math.max(1, Math.floor(options.maxBuffer ?? 10_000));
  const batchSize = Math.max(1, Math.floor(options.batchSize ?? 200));
  const flushIntervalMs = Math.max(0, options.flushIntervalMs ?? 250);
  const maxRetryDelayMs = Math.max(1, options.maxRetryDelayMs ?? 5_000);
  const writeTimeoutMs = Math.max(1, options.writeTimeoutMs ?? 15_000);
  const now = options.now ?? Date.now;
  let log = options.log;
  const logger = (): RecordWriterLog => (log ??= logFor("events"));

  const queue = new Queue();
  let inflight: Item[] = [];
  /** In-flight records neither resolved nor evicted. */
  let liveInflight = 0;
  let evictCursor = 0;
  let seq = 0;
  let dropped = 0;
  let written = 0;
  let failedFlushes = 0;

  let consecutiveFailures = 0;
  let outageSince: number | undefined;
  let retryAt: number | undefined;
  let lastOverflowWarn = Number.NEGATIVE_INFINITY;
  let closed = false;

  let timer: NodeJS.Timeout | undefined;
  let timerDue = 0;
  let chain: Promise<unknown> = Promise.resolve();

  const buffered = () => queue.length + liveInflight;
  trackEventWriter(() => ({ buffered: buffered(), dropped }));

  function safeLog(level: keyof RecordWriterLog, fields: object, message: string): void {
    try {
      logger()[level](fields, message);
    } catch {
      // Logging must never break the writer.
    }
  }

  /** Runs drains one at a time. */
  function serialized<T>(work: () => Promise<T>): Promise<T> {
    const run = chain.then(work);
    chain = run.catch(() => undefined);
    return run;
  }

  /** At most one warning per 10 s about records dropped for want of room (or after close). */
  function warnDropping(message: string): void {
    const t = now();
    if (t - lastOverflowWarn < OVERFLOW_WARN_INTERVAL_MS) return;
    lastOverflowWarn = t;
    safeLog("warn", { dropped, buffered: buffered(), maxBuffer }, message);
  }

  /** Drops the oldest record held: an in-flight one (settled when its attempt ends) or a queued one. */
  function evictOldest(): void {
    for (; evictCursor < inflight.length; evictCursor++) {
      const item = inflight[evictCursor];
      if (item && item.state === "inflight" && !item.evicted) {
        item.evicted = true;
        liveInflight--;
        evictCursor++;
        return;
      }
    }
    const item = queue.shift();
    if (item) {
      item.state = "dropped";
      dropped++;
    }
  }

  function schedule(): void {
    if (closed || queue.length === 0) return;
    const t = now();
    let due: number;
    if (retryAt !== undefined) due = retryAt;
    else if (queue.length >= batchSize) due = t;
    else due = t + flushIntervalMs;
    if (timer) {
      if (timerDue <= due) return;
      clearTimeout(timer);
    }
    timerDue = due;
    timer = setTimeout(tick, Math.max(0, due - t));
    timer.unref?.();
  }

  function tick(): void {
    timer = undefined;
    if (retryAt !== undefined && now() < retryAt) {
      schedule();
      return;
    }
    void serialized(() => drain(Number.POSITIVE_INFINITY)).finally(schedule);
  }

  function enqueue(kind: Kind, build: () => Pick<Item, "params" | "label" | "key" | "status">): void {
    try {
      if (closed) {
        dropped++;
        warnDropping("event writer: closed; dropping records enqueued afterwards");
        return;
      }
      const built = build();
      // As the row's JSON will carry them (insertSql); a value it cannot carry drops the record here.
      const item: Item = { ...built, params: built.params.map(jsonValue), seq: ++seq, kind, state: "queued", evicted: false };
      let evicted = false;
      while (buffered() >= maxBuffer) {
        evictOldest();
        evicted = true;
      }
      if (evicted) warnDropping("event writer: buffer full; dropping the oldest records");
      queue.push(item);
      schedule();
    } catch (error) {
      dropped++;
      safeLog("error", { kind, error: error instanceof Error ? error.name : "unknown" }, "event writer: unusable record dropped");
    }
  }

  function settle(items: readonly Item[], outcome: "written" | "dropped"): void {
    for (const item of items) {
      if (item.state !== "inflight") continue;
      if (!item.evicted) liveInflight--;
      item.state = outcome;
      if (outcome === "written") written++;
      else dropped++;
    }
  }

  async function insert(db: Db, spec: TableSpec, rows: readonly Row[]): Promise<void> {
    await withTimeout(db.query(insertSql(spec), [rowsJson(rows)]), writeTimeoutMs, "event write");
  }

  /** Writes `rows`, isolating and dropping rows the database rejects. Throws on any other failure. */
  async function writeRows(db: Db, spec: TableSpec, rows: readonly Row[]): Promise<void> {
    if (rows.length === 0) return;
    const maxRows = MAX_ROWS_PER_STATEMENT;
    if (rows.length > maxRows) {
      for (let i = 0; i < rows.length; i += maxRows) await writeRows(db, spec, rows.slice(i, i + maxRows));
      return;
    }
    try {
      await insert(db, spec, rows);
      for (const row of rows) settle(row.items, "written");
      return;
    } catch (error) {
      if (!isRowError(error)) throw error;
      if (rows.length > 1) {
        const mid = Math.ceil(rows.length / 2);
        await writeRows(db, spec, rows.slice(0, mid));
        await writeRows(db, spec, rows.slice(mid));
        return;
      }
      const [row] = rows as [Row];
      let rejection: unknown = error;
      const userIdIndex = spec.userIdIndex;
      if (sqlstate(error) === "23503" && userIdIndex !== undefined && row.params[userIdIndex] != null) {
        // The user is gone (deleted since): keep the event without them, as on delete set null would.
        const params = row.params.slice();
        params[userIdIndex] = null;
        try {
          await insert(db, spec, [{ ...row, params }]);
          settle(row.items, "written");
          return;
        } catch (retryError) {
          if (!isRowError(retryError)) throw retryError;
          rejection = retryError;
        }
      }
      settle(row.items, "dropped");
      safeLog(
        "error",
        {
          kind: spec.kind,
          type: row.label,
          records: row.items.length,
          code: sqlstate(rejection),
          constraint: constraintOf(rejection),
        },
        "event writer: the database rejected a record; dropped",
      );
    }
  }

  function rowsFor(spec: TableSpec, items: readonly Item[]): Row[] {
    if (spec.kind !== "generation") {
      return items.map((item) => ({ params: item.params, items: [item], label: item.label }));
    }
    // One row per generation id (two for the same id in one upsert is an error): the last
    // record wins, except that a pending record never replaces a finished one.
    const byId = new Map<string, Row>();
    for (const item of items) {
      const key = item.key ?? "";
      const row = byId.get(key);
      if (!row) {
        byId.set(key, { params: item.params, items: [item], label: item.label, status: item.status });
        continue;
      }
      row.items.push(item);
      if (item.status === "pending" && row.status !== "pending") continue;
      row.params = item.params;
      row.label = item.label;
      row.status = item.status;
    }
    return [...byId.values()];
  }

  /** One write attempt for `batch`; unwritten records go back to the front of the queue. */
  async function attempt(batch: Item[]): Promise<unknown> {
    inflight = batch;
    evictCursor = 0;
    for (const item of batch) item.state = "inflight";
    liveInflight = batch.length;
    let failure: unknown;
    try {
      const db = await withTimeout(options.getDb(), writeTimeoutMs, "event write");
      for (const spec of SPECS) {
        const items = batch.filter((item) => item.kind === spec.kind);
        if (items.length > 0) await writeRows(db, spec, rowsFor(spec, items));
      }
    } catch (error) {
      failure = error ?? new Error("write failed");
    } finally {
      const retry: Item[] = [];
      for (const item of batch) {
        if (item.state !== "inflight") continue;
        if (item.evicted) {
          item.state = "dropped";
          dropped++;
        } else {
          item.state = "queued";
          retry.push(item);
        }
      }
      queue.unshiftAll(retry);
      inflight = [];
      liveInflight = 0;
      evictCursor = 0;
    }
    return failure;
  }

  function onFailure(error: unknown): void {
    failedFlushes++;
    consecutiveFailures++;
    const delay = Math.min(maxRetryDelayMs, RETRY_BASE_MS * 2 ** Math.min(consecutiveFailures - 1, 30));
    retryAt = now() + delay;
    if (outageSince === undefined) {
      outageSince = now();
      safeLog(
        "warn",
        { error: describeError(error), code: sqlstate(error), buffered: buffered() },
        "event writer: database unavailable; buffering and retrying",
      );
    }
  }

  function onSuccess(): void {
    if (outageSince !== undefined) {
      safeLog(
        "info",
        { downMs: now() - outageSince, failedAttempts: consecutiveFailures, buffered: buffered(), dropped },
        "event writer: database reachable again",
      );
    }
    outageSince = undefined;
    consecutiveFailures = 0;
    retryAt = undefined;
  }

  /** Writes queued records up to sequence `upTo`, a batch at a time; false after a failed attempt. */
  async function drain(upTo: number): Promise<boolean> {
    for (;;) {
      const batch: Item[] = [];
      while (batch.length < batchSize) {
        const next = queue.peek();
        if (!next || next.seq > upTo) break;
        batch.push(queue.shift() as Item);
      }
      if (batch.length === 0) return true;
      const failure = await attempt(batch);
      if (failure !== undefined) {
        onFailure(failure);
        return false;
      }
      onSuccess();
    }
  }

  async function flushUpTo(upTo: number): Promise<void> {
    try {
      await serialized(() => drain(upTo));
    } catch {
      // drain does not throw; flush never rejects either way.
    }
    schedule();
  }

  return {
    securityEvent(event) {
      countSecurityEvent(event.severity);
      enqueue("security_event", () => ({
        params: securityParams(event, new Date().toISOString()),
        label: String(clip(event.eventType, 64)),
      }));
    },
    funnelEvent(event) {
      enqueue("funnel_event", () => ({
        params: funnelParams(event, new Date().toISOString()),
        label: String(clip(event.event, 64)),
      }));
    },
    generation(record) {
      enqueue("generation", () => ({
        params: generationParams(record),
        label: String(record.status),
        key: String(record.id),
        status: record.status,
      }));
    },
    flush() {
      return flushUpTo(seq);
    },
    stats() {
      return { buffered: buffered(), dropped, written, failedFlushes };
    },
    async close() {
      closed = true;
      if (timer) clearTimeout(timer);
      timer = undefined;
      await flushUpTo(seq);
      const left = buffered();
      if (left > 0) safeLog("warn", { buffered: left }, "event writer: closed with records not written");
    },
  };
}

import "server-only";
import { randomUUID } from "node:crypto";
import { BlockList, isIP } from "node:net";
import { AppError } from "@/lib/errors";
import { getKv } from "@/lib/kv";
import type { BlockEntry } from "@/lib/kv/types";
import { logFor } from "@/lib/observability/logger";
import { outsideRequest } from "@/lib/observability/request-stats";

/**
 * The IP blocklist, enforced on every route of every instance. Entries (an address or a CIDR, a
 * reason, a TTL) live in the shared store; each instance checks requests against an in-process
 * snapshot, so a check costs no round trip. A timer re-reads the store every REFRESH_MS, so a
 * change made on any instance is enforced everywhere well within a second; only the first request
 * of a process (no snapshot yet) waits for a read. A slow or absent store never stalls requests:
 * they are checked against the last list read.
 */
export const BLOCKLIST_REFRESH_MS = 250;
export const MAX_BLOCK_TTL_SECONDS = 365 * 24 * 3600;
const MAX_REASON_CHARS = 500;

export type { BlockEntry };

interface Snapshot {
  entries: BlockEntry[];
  /** Each entry's matcher, and one over all of them for the common case (nothing matches). */
  matchers: { entry: BlockEntry; list: BlockList }[];
  list: BlockList;
  /** When the store was last read (or last failed to be read: an outage must not stall every request). */
  readAtMs: number;
}

const globalForBlocklist = globalThis as unknown as {
  __litstatusBlocklist?: { snapshot?: Snapshot; refreshing?: Promise<Snapshot>; timer?: ReturnType<typeof setInterval> };
};

function state() {
  globalForBlocklist.__litstatusBlocklist ??= {};
  return globalForBlocklist.__litstatusBlocklist;
}

/** `203.0.113.7`, `2001:db8::/32`: the address and prefix length, or null when it is neither. */
export function parseTarget(raw: string): { address: string; prefix: number; family: "ipv4" | "ipv6" } | null {
  const [address = "", prefixText, extra] = raw.trim().toLowerCase().split("/");
  if (extra !== undefined) return null;
  // isIP accepts an IPv6 zone (`fe80::1%eth0`); no store or PostgreSQL inet takes one.
  const version = address.includes("%") ? 0 : isIP(address);
  if (version === 0) return null;
  const max = version === 4 ? 32 : 128;
  const prefix = prefixText === undefined ? max : /^\d{1,3}$/.test(prefixText) ? Number(prefixText) : -1;
  if (prefix < 0 || prefix > max) return null;
  return { address, prefix, family: version === 4 ? "ipv4" : "ipv6" };
}

function addTarget(list: BlockList, raw: string): boolean {
  const target = parseTarget(raw);
  if (!target) return false;
  if (target.prefix === (target.family === "ipv4" ? 32 : 128)) list.addAddress(target.address, target.family);
  else list.addSubnet(target.address, target.prefix, target.family);
  return true;
}

function buildSnapshot(entries: BlockEntry[], readAtMs: number): Snapshot {
  const list = new BlockList();
  const matchers: Snapshot["matchers"] = [];
  for (const entry of entries) {
    const one = new BlockList();
    if (!addTarget(one, entry.target)) continue;
    addTarget(list, entry.target);
    matchers.push({ entry, list: one });
  }
  return { entries, matchers, list, readAtMs };
}

async function readStore(): Promise<Snapshot> {
  const now = Date.now();
  const kv = getKv();
  const previous = state().snapshot;
  try {
    let entries = await kv.blocklistList(now);
    // Redis is away and the in-memory fallback answered: keep what we knew, plus what was added here.
    if (kv.status().mode !== "primary" && previous) {
      const ids = new Set(entries.map((e) => e.id));
      entries = [...entries, ...previous.entries.filter((e) => e.expiresAtMs > now && !ids.has(e.id))];
    }
    return buildSnapshot(entries, now);
  } catch (error) {
    logFor("security").warn({ err: error }, "blocklist refresh failed; enforcing the last known list");
    return buildSnapshot(previous?.entries.filter((e) => e.expiresAtMs > now) ?? [], now);
  }
}

/** Reads the store now (one refresh at a time); the snapshot every check uses. */
export function refreshBlocklist(): Promise<Snapshot> {
  const s = state();
  // Read outside any request's context (the timer's refreshes, and the first request's read,
  // are the process's work, never counted as a request's round trips).
  s.refreshing ??= outsideRequest(() =>
    readStore()
      .then((snapshot) => (s.snapshot = snapshot))
      .finally(() => (s.refreshing = undefined)),
  );
  s.timer ??= outsideRequest(() => setInterval(() => void refreshBlocklist(), BLOCKLIST_REFRESH_MS));
  s.timer.unref?.();
  return s.refreshing;
}

async function currentSnapshot(): Promise<Snapshot> {
  return state().snapshot ?? refreshBlocklist();
}

/** The entry blocking this address, if any (with how long it still holds). */
export async function blockedFor(ip: string | null): Promise<{ id: string; retryAfterSeconds: number } | null> {
  if (ip === null) return null;
  const snapshot = await currentSnapshot();
  if (snapshot.entries.length === 0) return null;
  const family = isIP(ip) === 6 ? "ipv6" : "ipv4";
  if (!snapshot.list.check(ip, family)) return null;
  const now = Date.now();
  const match = snapshot.matchers.find((m) => m.entry.expiresAtMs > now && m.list.check(ip, family));
  return match ? { id: match.entry.id, retryAfterSeconds: Math.max(1, Math.ceil((match.entry.expiresAtMs - now) / 1000)) } : null;
}

export interface BlockRequest {
  target: string;
  reason: string;
  ttlSeconds: number;
  createdBy?: string | null;
}

/** Adds an entry (an address or CIDR with a TTL); this instance enforces it at once. */
export async function blockAddress(request: BlockRequest): Promise<BlockEntry> {
  const target = parseTarget(request.target);
  if (!target) throw new AppError("invalid_input", "Give an IP address or a CIDR range (e.g. 203.0.113.0/24).");
  if (!Number.isInteger(request.ttlSeconds) || request.ttlSeconds < 1 || request.ttlSeconds > MAX_BLOCK_TTL_SECONDS) {
    throw new AppError("invalid_input", `ttlSeconds must be a whole number from 1 to ${MAX_BLOCK_TTL_SECONDS}.`);
  }
  const now = Date.now();
  const full = target.prefix === (target.family === "ipv4" ? 32 : 128);
  const entry: BlockEntry = {
    id: randomUUID(),
    target: full ? target.address : `${target.address}/${target.prefix}`,
    reason: request.reason.trim().slice(0, MAX_REASON_CHARS),
    createdBy: request.createdBy ?? null,
    createdAtMs: now,
    expiresAtMs: now + request.ttlSeconds * 1000,
  };
  await getKv().blocklistAdd(entry);
  await refreshBlocklist();
  return entry;
}

/** Removes an entry; false when there was none with this id. */
export async function unblock(id: string): Promise<boolean> {
  const removed = await getKv().blocklistRemove(id);
  await refreshBlocklist();
  return removed;
}

/** Entries in force now, newest first. */
export async function listBlocks(): Promise<BlockEntry[]> {
  const entries = await getKv().blocklistList(Date.now());
  return entries.sort((a, b) => b.createdAtMs - a.createdAtMs);
}

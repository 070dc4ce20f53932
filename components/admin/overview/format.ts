/** Display helpers shared by the overview and alerts pages (server and client). */

export function percent(rate: number | null | undefined): string {
  if (rate === null || rate === undefined) return "—";
  const p = rate * 100;
  return `${p.toFixed(p === 0 || p >= 10 ? 0 : p >= 1 ? 1 : 2)} %`;
}

/** A latency from the histogram: the upper bound of its bucket ("≤"), 5000 meaning "5 s or more". */
export function latency(ms: number | null | undefined): string {
  if (ms === null || ms === undefined) return "—";
  if (ms >= 5000) return "≥ 5 s";
  return ms >= 1000 ? `≤ ${ms / 1000} s` : `≤ ${ms} ms`;
}

export function count(n: number | null | undefined): string {
  return n === null || n === undefined ? "—" : n.toLocaleString("en");
}

/** "14:05 UTC" (today) or "Nov 28, 14:05 UTC". */
export function utcTime(iso: string | null | undefined, withSeconds = false): string {
  if (!iso) return "—";
  const d = new Date(iso);
  const time = d.toISOString().slice(11, withSeconds ? 19 : 16);
  const sameDay = d.toISOString().slice(0, 10) === new Date().toISOString().slice(0, 10);
  const day = d.toLocaleDateString("en", { month: "short", day: "numeric", timeZone: "UTC" });
  return sameDay ? `${time} UTC` : `${day}, ${time} UTC`;
}

export function alertValue(value: number | null, unit: "ratio" | "ms" | "count" | "bool"): string {
  if (value === null) return "unknown";
  switch (unit) {
    case "ratio":
      return percent(value);
    case "ms":
      return latency(value);
    case "count":
      return count(value);
    case "bool":
      return value > 0 ? "yes" : "no";
  }
}

export function alertThreshold(threshold: number, unit: "ratio" | "ms" | "count" | "bool"): string {
  switch (unit) {
    case "ratio":
      return `> ${percent(threshold)}`;
    case "ms":
      return `> ${threshold / 1000} s`;
    case "count":
      return `> ${count(threshold)}`;
    case "bool":
      return "yes";
  }
}

"use client";

import { useState } from "react";
import { ActionStatus } from "@/components/admin/form-bits";
import { useRouter } from "@/i18n/navigation";
import { apiFetch } from "@/lib/ui/api-client";

const plural = (n: number, one: string, many: string) => `${n} ${n === 1 ? one : many}`;

/**
 * How each action's answer is told (here, not passed in: a server page cannot hand a function to
 * a client component).
 */
const SUMMARIES = {
  "cache-flush": (d: { deleted: number }) => `${plural(d.deleted, "cached caption", "cached captions")} deleted.`,
  sweep: (d: { swept: number }) => `${plural(d.swept, "generation", "generations")} marked failed.`,
  retention: (d: { removed: { security_events: number; funnel_events: number; generations: number }; swept: number }) =>
    `Removed ${plural(d.removed.security_events, "security event", "security events")}, ${plural(d.removed.funnel_events, "funnel event", "funnel events")}, ${plural(d.removed.generations, "guest generation", "guest generations")}; ${plural(d.swept, "stuck generation", "stuck generations")} marked failed.`,
} as const;

interface Props {
  /** The button's text (what it does). */
  label: string;
  method: "POST" | "DELETE";
  url: string;
  body?: unknown;
  /** Asks "Are you sure?" in place before calling (for destructive actions). */
  confirm?: string;
  danger?: boolean;
  /** Which action this is: how its answer is summed up after success. */
  summary: keyof typeof SUMMARIES;
  testId?: string;
}

/**
 * One admin write from the console (admins only: the page renders it only for them): calls the
 * admin API, says what happened in a live region and refreshes the page's server data.
 */
export function AdminAction({ label, method, url, body, confirm, danger, summary, testId }: Props) {
  const router = useRouter();
  const [busy, setBusy] = useState(false);
  const [asking, setAsking] = useState(false);
  const [message, setMessage] = useState<{ ok: boolean; text: string } | null>(null);

  const run = async () => {
    setAsking(false);
    setBusy(true);
    setMessage(null);
    const res = await apiFetch<never>(url, {
      method,
      ...(body === undefined ? {} : { headers: { "content-type": "application/json" }, body: JSON.stringify(body) }),
    });
    setBusy(false);
    if (res.ok) {
      setMessage({ ok: true, text: (SUMMARIES[summary] as (data: unknown) => string)(res.data) });
      router.refresh();
    } else if (res.status === 403) {
      setMessage({ ok: false, text: "Only admins can do this." });
    } else {
      setMessage({ ok: false, text: res.message || `The request failed (${res.code}).` });
    }
  };

  return (
    <div className="stack ops-action">
      {asking ? (
        <div className="confirm" role="group" aria-label={`Confirm: ${label}`}>
          <span className="confirm-text">{confirm}</span>
          <button type="button" className="btn btn-sm btn-danger" onClick={() => void run()} data-testid={testId ? `${testId}-confirm` : undefined}>
            Yes, {label.toLowerCase()}
          </button>
          <button type="button" className="btn btn-sm" onClick={() => setAsking(false)}>
            Cancel
          </button>
        </div>
      ) : (
        <div className="actions">
          <button
            type="button"
            className={`btn btn-sm${danger ? " btn-danger" : ""}`}
            disabled={busy}
            onClick={() => (confirm ? setAsking(true) : void run())}
            data-testid={testId}
          >
            {busy ? "Working…" : label}
          </button>
        </div>
      )}
      <ActionStatus message={message} />
    </div>
  );
}

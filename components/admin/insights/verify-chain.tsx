"use client";

import { useState } from "react";

type Outcome = { ok: boolean; rows: number; firstBrokenId?: string };

/** "Verify chain": asks GET /api/admin/audit/verify and says ok, or names the first broken row. */
export function VerifyChain() {
  const [busy, setBusy] = useState(false);
  const [outcome, setOutcome] = useState<Outcome | null>(null);
  const [error, setError] = useState<string | null>(null);

  async function verify() {
    setBusy(true);
    setError(null);
    try {
      const res = await fetch("/api/admin/audit/verify", { headers: { accept: "application/json" }, cache: "no-store" });
      const body = (await res.json().catch(() => null)) as (Outcome & { error?: { message?: string } }) | null;
      if (!res.ok || !body || typeof body.ok !== "boolean") {
        setOutcome(null);
        setError(body?.error?.message ?? `The check failed (HTTP ${res.status}).`);
      } else {
        setOutcome({ ok: body.ok, rows: body.rows, firstBrokenId: body.firstBrokenId });
      }
    } catch {
      setOutcome(null);
      setError("The check could not reach the server.");
    } finally {
      setBusy(false);
    }
  }

  return (
    <div className="stack">
      <div className="actions">
        <button type="button" className="btn btn-sm" onClick={() => void verify()} disabled={busy} aria-describedby="verify-status">
          {busy ? "Verifying…" : "Verify chain"}
        </button>
      </div>
      <div id="verify-status" role="status" aria-live="polite" data-testid="verify-status">
        {error ? <p className="alert">{error}</p> : null}
        {outcome?.ok ? (
          <p className="notice">
            The chain is intact: {outcome.rows} {outcome.rows === 1 ? "entry" : "entries"} verified.
          </p>
        ) : null}
        {outcome && !outcome.ok ? (
          <p className="alert">
            The chain is broken at entry <strong>#{outcome.firstBrokenId}</strong> (entry {outcome.rows} in order): it, or the entry
            before it, was changed or removed outside the console.
          </p>
        ) : null}
      </div>
    </div>
  );
}

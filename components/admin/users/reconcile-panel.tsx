"use client";

import { useState } from "react";
import { Link } from "@/i18n/navigation";
import { apiFetch } from "@/lib/ui/api-client";

interface Discrepancy {
  userId: string;
  email: string | null;
  field: "used" | "credits";
  day: string | null;
  stored: number;
  computed: number;
}

interface Result {
  ok: boolean;
  total: number;
  discrepancies: Discrepancy[];
}

/** Runs GET /api/admin/ledger/reconcile on demand and shows what it found (a read: moderators too). */
export function ReconcilePanel() {
  const [busy, setBusy] = useState(false);
  const [result, setResult] = useState<Result | null>(null);
  const [error, setError] = useState<string | null>(null);

  const run = async () => {
    setBusy(true);
    setError(null);
    const res = await apiFetch<Result>("/api/admin/ledger/reconcile");
    setBusy(false);
    if (res.ok) setResult(res.data);
    else setError(res.message || "The reconciliation could not run.");
  };

  return (
    <div className="stack">
      <div className="actions">
        <button type="button" className="btn" onClick={() => void run()} disabled={busy} aria-busy={busy}>
          {busy ? "Reconciling…" : "Run reconciliation"}
        </button>
      </div>
      {error ? (
        <p className="alert" role="alert">
          {error}
        </p>
      ) : null}
      <p className="status-line small" role="status" data-testid="reconcile-status">
        {result
          ? result.ok
            ? "No discrepancies: every counter matches the ledger."
            : `${result.total} ${result.total === 1 ? "discrepancy" : "discrepancies"}${result.total > result.discrepancies.length ? ` (showing ${result.discrepancies.length})` : ""}.`
          : null}
      </p>
      {result && !result.ok ? (
        <div className="table-scroll">
          <table className="table" data-testid="reconcile-table">
            <thead>
              <tr>
                <th scope="col">User</th>
                <th scope="col">Counter</th>
                <th scope="col">Day</th>
                <th scope="col">Stored</th>
                <th scope="col">From the ledger</th>
              </tr>
            </thead>
            <tbody>
              {result.discrepancies.map((d) => (
                <tr key={`${d.userId}:${d.field}:${d.day ?? ""}`}>
                  <th scope="row" className="break">
                    <Link href={`/admin/users/${d.userId}`}>{d.email ?? d.userId}</Link>
                  </th>
                  <td>{d.field === "used" ? "Used (daily)" : "Credits"}</td>
                  <td className="nowrap">{d.day ?? "–"}</td>
                  <td>{d.stored}</td>
                  <td>{d.computed}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
    </div>
  );
}

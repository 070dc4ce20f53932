"use client";

import { useState } from "react";
import { DataTable } from "@/components/admin/data-table";
import { ErrorAlert } from "@/components/admin/form-bits";
import { Link } from "@/i18n/navigation";
import type { Discrepancy } from "@/lib/admin/users";
import { apiFetch } from "@/lib/ui/api-client";

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
      <ErrorAlert>{error}</ErrorAlert>
      <p className="status-line small" role="status" data-testid="reconcile-status">
        {result
          ? result.ok
            ? "No discrepancies: every counter matches the ledger."
            : `${result.total} ${result.total === 1 ? "discrepancy" : "discrepancies"}${result.total > result.discrepancies.length ? ` (showing ${result.discrepancies.length})` : ""}.`
          : null}
      </p>
      {result && !result.ok ? (
        <DataTable
          testId="reconcile-table"
          rows={result.discrepancies}
          rowKey={(d) => `${d.userId}:${d.field}:${d.day ?? ""}`}
          columns={[
            { header: "User", rowHeader: true, className: "break", cell: (d) => <Link href={`/admin/users/${d.userId}`}>{d.email ?? d.userId}</Link> },
            { header: "Counter", cell: (d) => (d.field === "used" ? "Used (daily)" : "Credits") },
            { header: "Day", className: "nowrap", cell: (d) => d.day ?? "–" },
            { header: "Stored", cell: (d) => d.stored },
            { header: "From the ledger", cell: (d) => d.computed },
          ]}
        />
      ) : null}
    </div>
  );
}

"use client";

import { useState } from "react";
import { useRouter } from "@/i18n/navigation";
import { apiFetch } from "@/lib/ui/api-client";

/** Removes one blocklist entry (DELETE /api/admin/blocklist?id=…), then refreshes the list. */
export function RemoveBlockButton({ id, target }: { id: string; target: string }) {
  const router = useRouter();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const remove = async () => {
    setBusy(true);
    setError(null);
    const res = await apiFetch<unknown>(`/api/admin/blocklist?id=${encodeURIComponent(id)}`, { method: "DELETE" });
    setBusy(false);
    if (!res.ok && res.status !== 404) {
      setError(res.code === "forbidden" ? `Refused: ${res.message || "only admins can change the blocklist."}` : res.message || "Could not remove the entry.");
      return;
    }
    router.refresh();
  };
  return (
    <>
      <button type="button" className="btn btn-sm btn-danger" disabled={busy} onClick={() => void remove()} aria-label={`Remove ${target}`}>
        {busy ? "Removing…" : "Remove"}
      </button>
      {error ? (
        <span className="small" role="alert">
          {error}
        </span>
      ) : null}
    </>
  );
}

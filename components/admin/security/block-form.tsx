"use client";

import { useId, useRef, useState } from "react";
import { Outcome, ReasonField } from "@/components/admin/form-bits";
import { useRouter } from "@/i18n/navigation";
import { apiFetch } from "@/lib/ui/api-client";

/** TTL choices offered in the console (the API takes any whole number of seconds, 60 s to 365 days). */
export const TTL_CHOICES = [
  { seconds: 3_600, label: "1 hour" },
  { seconds: 86_400, label: "24 hours" },
  { seconds: 7 * 86_400, label: "7 days" },
  { seconds: 30 * 86_400, label: "30 days" },
  { seconds: 365 * 86_400, label: "365 days" },
] as const;

/** POST /api/admin/blocklist: `ip` for an address, `cidr` for a range; a readable error or null. */
export async function submitBlock(target: string, reason: string, ttlSeconds: number): Promise<string | null> {
  const trimmed = target.trim();
  const res = await apiFetch<{ id: string }>("/api/admin/blocklist", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ ...(trimmed.includes("/") ? { cidr: trimmed } : { ip: trimmed }), reason: reason.trim(), ttlSeconds }),
  });
  if (res.ok) return null;
  if (res.code === "forbidden") return `Refused: ${res.message || "only admins can change the blocklist."}`;
  if (res.code === "invalid_input") return `${res.message || "The entry was refused."} Check the address (an IP or a CIDR range), the reason and the duration.`;
  return res.message || "The entry could not be added.";
}

interface Props {
  /** Fixed target (the one-click "Block" next to an address); editable when absent. */
  target?: string;
  /** Called after a successful block (the table refreshes itself either way). */
  onDone?: () => void;
  onCancel?: () => void;
  submitLabel?: string;
}

/** Address or range, reason and duration; adds a blocklist entry and refreshes the page's data. */
export function BlockForm({ target, onDone, onCancel, submitLabel = "Block" }: Props) {
  const id = useId();
  const router = useRouter();
  const [address, setAddress] = useState(target ?? "");
  const [reason, setReason] = useState("");
  const [ttl, setTtl] = useState<number>(TTL_CHOICES[1].seconds);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [done, setDone] = useState<string | null>(null);
  const reasonInput = useRef<HTMLInputElement>(null);

  const submit = async () => {
    if (busy) return;
    if (!reason.trim()) {
      setError("Give a reason.");
      reasonInput.current?.focus();
      return;
    }
    setBusy(true);
    setError(null);
    setDone(null);
    const failure = await submitBlock(address, reason, ttl);
    setBusy(false);
    if (failure) {
      setError(failure);
      return;
    }
    setDone(`${address.trim()} is blocked.`);
    if (target === undefined) setAddress("");
    setReason("");
    router.refresh();
    onDone?.();
  };

  return (
    <form
      className="stack block-form"
      noValidate
      aria-label={target ? `Block ${target}` : "Add a blocklist entry"}
      onSubmit={(e) => {
        e.preventDefault();
        void submit();
      }}
    >
      <div className="row">
        {target === undefined ? (
          <div>
            <label htmlFor={`${id}-target`}>IP address or CIDR range</label>
            <input
              id={`${id}-target`}
              type="text"
              name="target"
              inputMode="text"
              autoComplete="off"
              spellCheck={false}
              placeholder="203.0.113.7 or 203.0.113.0/24"
              value={address}
              onChange={(e) => setAddress(e.target.value)}
              required
            />
          </div>
        ) : null}
        <ReasonField id={`${id}-reason`} inputRef={reasonInput} value={reason} onChange={setReason} />
        <div>
          <label htmlFor={`${id}-ttl`}>Block for</label>
          <select id={`${id}-ttl`} name="ttlSeconds" value={ttl} onChange={(e) => setTtl(Number(e.target.value))}>
            {TTL_CHOICES.map((c) => (
              <option key={c.seconds} value={c.seconds}>
                {c.label}
              </option>
            ))}
          </select>
        </div>
      </div>
      <Outcome error={error} done={done} />
      <div className="actions">
        <button type="submit" className="btn btn-sm btn-danger" disabled={busy}>
          {busy ? "Blocking…" : submitLabel}
        </button>
        {onCancel ? (
          <button type="button" className="btn btn-sm" onClick={onCancel}>
            Cancel
          </button>
        ) : null}
      </div>
    </form>
  );
}

"use client";

import { useId, useState } from "react";
import { ActionStatus } from "@/components/admin/form-bits";
import { useRouter } from "@/i18n/navigation";
import { apiFetch } from "@/lib/ui/api-client";

interface BreakerAnswer {
  state: string;
  openUntil: string | null;
}

/** Reset, and force open for N seconds (1–3600): POST /api/admin/breaker. Admins only. */
export function BreakerControls() {
  const id = useId();
  const router = useRouter();
  const [seconds, setSeconds] = useState("300");
  const [busy, setBusy] = useState(false);
  const [message, setMessage] = useState<{ ok: boolean; text: string } | null>(null);

  const send = async (body: { action: "reset" } | { action: "force-open"; seconds: number }) => {
    setBusy(true);
    setMessage(null);
    const res = await apiFetch<BreakerAnswer>("/api/admin/breaker", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body),
    });
    setBusy(false);
    if (res.ok) {
      const until = res.data.openUntil ? ` until ${res.data.openUntil.slice(0, 19).replace("T", " ")} UTC` : "";
      setMessage({ ok: true, text: `The breaker is ${res.data.state}${until}.` });
      router.refresh();
    } else {
      setMessage({ ok: false, text: res.status === 403 ? "Only admins can do this." : res.message || `The request failed (${res.code}).` });
    }
  };

  const forceOpen = () => {
    const n = Number(seconds);
    if (!Number.isInteger(n) || n < 1 || n > 3600) {
      setMessage({ ok: false, text: "Give a whole number of seconds from 1 to 3600." });
      return;
    }
    void send({ action: "force-open", seconds: n });
  };

  return (
    <div className="stack">
      <form
        className="toolbar"
        noValidate
        onSubmit={(e) => {
          e.preventDefault();
          forceOpen();
        }}
      >
        <div className="toolbar-field">
          <label htmlFor={`${id}-seconds`}>Force open for (seconds)</label>
          <input
            id={`${id}-seconds`}
            type="number"
            inputMode="numeric"
            min={1}
            max={3600}
            step={1}
            value={seconds}
            onChange={(e) => setSeconds(e.target.value)}
            aria-describedby={`${id}-hint`}
            data-testid="breaker-seconds"
          />
        </div>
        <div className="actions">
          <button type="submit" className="btn btn-sm btn-danger" disabled={busy} data-testid="breaker-force-open">
            Force open
          </button>
          <button type="button" className="btn btn-sm" disabled={busy} onClick={() => void send({ action: "reset" })} data-testid="breaker-reset">
            Reset
          </button>
        </div>
      </form>
      <p id={`${id}-hint`} className="field-hint">
        While forced open, every instance answers generations with 503 <code>upstream_unavailable</code> (or the fallback model) without
        calling the model; afterwards one probe decides. Reset closes it at once.
      </p>
      <ActionStatus message={message} />
    </div>
  );
}

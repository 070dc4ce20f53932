import type { ReactNode, Ref } from "react";

/** An error in an alert (announced at once); nothing without one. */
export function ErrorAlert({ id, children }: { id?: string; children: ReactNode }) {
  if (!children) return null;
  return (
    <p className="alert" role="alert" id={id}>
      {children}
    </p>
  );
}

/** A form's outcome: its error in an alert, and the status line that announces what was done. */
export function Outcome({ id, error, done }: { id?: string; error: string | null; done: ReactNode }) {
  return (
    <>
      <ErrorAlert id={id}>{error}</ErrorAlert>
      <p className="status-line small" role="status">
        {done}
      </p>
    </>
  );
}

/** An action's status line, marked as an error when the last action failed. */
export function ActionStatus({ message }: { message: { ok: boolean; text: string } | null }) {
  return (
    <p className={`status-line small${message && !message.ok ? " ops-error" : ""}`} role="status" aria-live="polite">
      {message?.text ?? ""}
    </p>
  );
}

/** The required free-text reason an admin action is recorded with (up to 500 characters). */
export function ReasonField({ id, value, onChange, inputRef }: { id: string; value: string; onChange: (value: string) => void; inputRef?: Ref<HTMLInputElement> }) {
  return (
    <div>
      <label htmlFor={id}>Reason</label>
      <input ref={inputRef} id={id} type="text" name="reason" maxLength={500} autoComplete="off" value={value} onChange={(e) => onChange(e.target.value)} required />
    </div>
  );
}

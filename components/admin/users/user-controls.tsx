"use client";

import { useId, useRef, useState, type FormEvent, type ReactNode } from "react";
import { Outcome, ReasonField } from "@/components/admin/form-bits";
import { useRouter } from "@/i18n/navigation";
import { apiFetch, type ApiResult } from "@/lib/ui/api-client";

type Plan = "free" | "pro";
type Role = "user" | "moderator" | "admin";

interface Props {
  user: { userId: string; email: string | null; plan: Plan; role: Role; disabled: boolean };
  /** The admin looking at their own account: no disabling, demoting or deleting themselves. */
  self: boolean;
}

function send<T>(method: string, url: string, body?: unknown, headers: Record<string, string> = {}): Promise<ApiResult<T>> {
  return apiFetch<T>(url, {
    method,
    headers: body === undefined ? headers : { "content-type": "application/json", ...headers },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
}

function failure(res: Extract<ApiResult<unknown>, { ok: false }>, fallback: string): string {
  if (res.status === 403) return "Only admins can change users.";
  return res.message || fallback;
}

/** One control's outcome: an alert for errors, a polite status line for success. */
function useAction() {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [done, setDone] = useState<string | null>(null);
  const run = async (work: () => Promise<string | { error: string }>) => {
    if (busy) return;
    setBusy(true);
    setError(null);
    setDone(null);
    const outcome = await work();
    setBusy(false);
    if (typeof outcome === "string") setDone(outcome);
    else setError(outcome.error);
  };
  return { busy, error, done, run };
}

function Panel({ id, title, children, danger = false }: { id: string; title: string; children: ReactNode; danger?: boolean }) {
  return (
    <section className={danger ? "card stack danger-zone" : "card stack"} aria-labelledby={id}>
      <h2 id={id}>{title}</h2>
      {children}
    </section>
  );
}

/** The admin-only controls of a user's page: plan and role, disable/enable, grant credits, delete. */
export function UserControls({ user, self }: Props) {
  const id = useId();
  const router = useRouter();
  const url = `/api/admin/users/${user.userId}`;

  const [plan, setPlan] = useState<Plan>(user.plan);
  const [role, setRole] = useState<Role>(user.role);
  const profile = useAction();

  const access = useAction();

  const [amount, setAmount] = useState("");
  const [reason, setReason] = useState("");
  // One key per intended grant: a retry of the same submission (a lost answer) cannot grant twice.
  const grantKey = useRef<string | null>(null);
  const credits = useAction();

  const confirmWord = user.email ?? user.userId;
  const [confirm, setConfirm] = useState("");
  const removal = useAction();

  const saveProfile = () =>
    profile.run(async () => {
      const patch = { ...(plan !== user.plan ? { plan } : {}), ...(role !== user.role ? { role } : {}) };
      if (Object.keys(patch).length === 0) return { error: "Nothing changed." };
      const res = await send("PATCH", url, patch);
      if (!res.ok) return { error: failure(res, "The change was refused.") };
      router.refresh();
      return "Saved.";
    });

  const toggleAccess = () =>
    access.run(async () => {
      const res = await send("PATCH", url, { disabled: !user.disabled });
      if (!res.ok) return { error: failure(res, "The change was refused.") };
      router.refresh();
      return user.disabled ? "The account is enabled: the user can sign in again." : "The account is disabled and its sessions have ended.";
    });

  const grant = () =>
    credits.run(async () => {
      const n = Number(amount.trim());
      if (!/^-?\d+$/.test(amount.trim()) || n === 0) return { error: "Enter a whole number of credits other than 0 (negative takes credits back)." };
      if (!reason.trim()) return { error: "Give a reason." };
      grantKey.current ??= `console-${crypto.randomUUID()}`;
      const answer = await send<{ credits: number }>("POST", `${url}/credits`, { amount: n, reason: reason.trim() }, { "Idempotency-Key": grantKey.current });
      if (!answer.ok) {
        // A refused request made no entry: the next attempt is a new grant with a new key.
        if (answer.status > 0 && answer.status < 500) grantKey.current = null;
        return { error: failure(answer, "The grant was refused.") };
      }
      grantKey.current = null;
      setAmount("");
      setReason("");
      router.refresh();
      return `Done: the user now has ${answer.data.credits} ${answer.data.credits === 1 ? "credit" : "credits"}.`;
    });

  const remove = () =>
    removal.run(async () => {
      if (confirm.trim() !== confirmWord) return { error: `Type ${confirmWord} to confirm.` };
      const res = await send("DELETE", url);
      if (!res.ok) return { error: failure(res, "The user could not be deleted.") };
      router.push("/admin/users");
      return "The user and their data are deleted.";
    });

  return (
    <>
      <Panel id={`${id}-profile`} title="Plan and role">
        <form className="stack" noValidate onSubmit={(e: FormEvent) => {
            e.preventDefault();
            void saveProfile();
          }}>
          <div className="row">
            <div>
              <label htmlFor={`${id}-plan`}>Plan</label>
              <select id={`${id}-plan`} name="plan" value={plan} onChange={(e) => setPlan(e.target.value as Plan)}>
                <option value="free">Free</option>
                <option value="pro">Pro</option>
              </select>
            </div>
            <div>
              <label htmlFor={`${id}-role`}>Role</label>
              <select
                id={`${id}-role`}
                name="role"
                value={role}
                onChange={(e) => setRole(e.target.value as Role)}
                disabled={self}
                aria-describedby={self ? `${id}-role-hint` : undefined}
              >
                <option value="user">User</option>
                <option value="moderator">Moderator (read-only console)</option>
                <option value="admin">Admin</option>
              </select>
              {self ? (
                <p className="field-hint" id={`${id}-role-hint`}>
                  You cannot change your own role.
                </p>
              ) : null}
            </div>
          </div>
          <Outcome id={`${id}-profile-error`} error={profile.error} done={profile.done} />
          <div className="actions">
            <button type="submit" className="btn btn-primary" disabled={profile.busy} aria-busy={profile.busy}>
              {profile.busy ? "Saving…" : "Save plan and role"}
            </button>
          </div>
        </form>
      </Panel>

      <Panel id={`${id}-credits`} title="Grant credits">
        <p className="muted small" style={{ margin: 0 }}>
          Credits pay for generations once the daily allowance is used up, and do not expire. Each grant is a ledger entry with its reason.
        </p>
        <form className="stack" noValidate onSubmit={(e: FormEvent) => {
            e.preventDefault();
            void grant();
          }}>
          <div className="row">
            <div>
              <label htmlFor={`${id}-amount`}>Credits</label>
              <input
                id={`${id}-amount`}
                type="text"
                inputMode="numeric"
                name="amount"
                autoComplete="off"
                value={amount}
                onChange={(e) => {
                  setAmount(e.target.value);
                  grantKey.current = null;
                }}
                aria-describedby={`${id}-amount-hint`}
                required
              />
              <p className="field-hint" id={`${id}-amount-hint`}>
                A negative number takes credits back.
              </p>
            </div>
            <ReasonField
              id={`${id}-reason`}
              value={reason}
              onChange={(value) => {
                setReason(value);
                grantKey.current = null;
              }}
            />
          </div>
          <Outcome id={`${id}-credits-error`} error={credits.error} done={credits.done} />
          <div className="actions">
            <button type="submit" className="btn btn-primary" disabled={credits.busy} aria-busy={credits.busy}>
              {credits.busy ? "Granting…" : "Grant credits"}
            </button>
          </div>
        </form>
      </Panel>

      {self ? null : (
        <Panel id={`${id}-access`} title="Access" danger={!user.disabled}>
          <p style={{ margin: 0 }}>
            {user.disabled
              ? "This account is disabled: every request with it is refused (403 account_disabled). Enabling lets the user sign in again; their old sessions stay ended."
              : "Disabling refuses every request of this account (403 account_disabled) and ends all of its sessions at once."}
          </p>
          <Outcome id={`${id}-access-error`} error={access.error} done={access.done} />
          <div className="actions">
            <button
              type="button"
              className={user.disabled ? "btn" : "btn btn-danger"}
              onClick={() => void toggleAccess()}
              disabled={access.busy}
              aria-busy={access.busy}
            >
              {user.disabled ? "Enable account" : "Disable account"}
            </button>
          </div>
        </Panel>
      )}

      {self ? null : (
        <Panel id={`${id}-delete`} title="Delete user" danger>
          <p style={{ margin: 0 }}>
            Deletes the account and its data (profile, history, usage, ledger, feedback, waitlist entries) at once. Events are kept without the user. This cannot be undone.
          </p>
          <form className="stack" noValidate onSubmit={(e: FormEvent) => {
            e.preventDefault();
            void remove();
          }}>
            <div>
              <label htmlFor={`${id}-confirm`}>
                Type <code>{confirmWord}</code> to confirm
              </label>
              <input
                id={`${id}-confirm`}
                type="text"
                name="confirm"
                className="input-confirm"
                autoComplete="off"
                spellCheck={false}
                value={confirm}
                onChange={(e) => setConfirm(e.target.value)}
                aria-invalid={removal.error !== null}
                aria-describedby={removal.error ? `${id}-delete-error` : undefined}
              />
            </div>
            <Outcome id={`${id}-delete-error`} error={removal.error} done={removal.done} />
            <div className="actions">
              <button type="submit" className="btn btn-danger-solid" disabled={removal.busy} aria-busy={removal.busy}>
                {removal.busy ? "Deleting…" : "Delete user"}
              </button>
            </div>
          </form>
        </Panel>
      )}
    </>
  );
}

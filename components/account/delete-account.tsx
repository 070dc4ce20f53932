"use client";

import { useLocale, useTranslations } from "next-intl";
import { useId, useRef, useState } from "react";
import { getPathname } from "@/i18n/navigation";
import { apiFetch } from "@/lib/ui/api-client";
import { useErrorMessage } from "@/components/use-error-message";

const CONFIRM_WORD = "DELETE";

/** The danger zone's form: type DELETE, then the account and its data are deleted. */
export function DeleteAccount() {
  const t = useTranslations("account");
  const errorMessage = useErrorMessage();
  const locale = useLocale();
  const id = useId();
  const input = useRef<HTMLInputElement>(null);
  const [value, setValue] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  const submit = async () => {
    if (busy) return;
    if (value.trim() !== CONFIRM_WORD) {
      setError(t("confirmMismatch"));
      input.current?.focus();
      return;
    }
    setBusy(true);
    setError(null);
    const res = await apiFetch<{ deleted: true }>("/api/me", {
      method: "DELETE",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ confirm: CONFIRM_WORD }),
    });
    if (res.ok) {
      // A full navigation: the session cookie is gone, every server-rendered part must know.
      const home = new URL(getPathname({ href: "/", locale }), window.location.origin);
      home.searchParams.set("deleted", "1");
      window.location.assign(home);
      return;
    }
    setBusy(false);
    setError(errorMessage(res));
  };

  const mismatch = error === t("confirmMismatch");
  return (
    <form
      className="stack"
      noValidate
      data-testid="delete-account"
      onSubmit={(e) => {
        e.preventDefault();
        void submit();
      }}
    >
      <div>
        <label htmlFor={`${id}-confirm`}>{t("confirmLabel")}</label>
        <input
          ref={input}
          id={`${id}-confirm`}
          type="text"
          name="confirm"
          className="input-confirm"
          autoComplete="off"
          autoCapitalize="characters"
          spellCheck={false}
          value={value}
          onChange={(e) => setValue(e.target.value)}
          aria-invalid={mismatch}
          aria-describedby={error ? `${id}-error` : undefined}
        />
      </div>
      {error ? (
        <div className="alert" role="alert" id={`${id}-error`}>
          <p style={{ margin: 0 }}>{error}</p>
        </div>
      ) : null}
      <div className="actions">
        <button type="submit" className="btn btn-danger-solid" disabled={busy} aria-busy={busy}>
          {busy ? t("deleting") : t("deleteButton")}
        </button>
      </div>
    </form>
  );
}

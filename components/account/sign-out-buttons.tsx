"use client";

import { useLocale, useTranslations } from "next-intl";
import { useState } from "react";
import { getPathname } from "@/i18n/navigation";
import { postJson } from "@/lib/ui/api-client";
import { useErrorMessage } from "@/components/use-error-message";

/** Sign out of this browser or of every session; then a full reload so nothing signed-in lingers. */
export function SignOutButtons() {
  const t = useTranslations("account");
  const errorMessage = useErrorMessage();
  const locale = useLocale();
  const [busy, setBusy] = useState<"here" | "everywhere" | null>(null);
  const [error, setError] = useState<string | null>(null);

  const signOut = async (everywhere: boolean) => {
    if (busy) return;
    setBusy(everywhere ? "everywhere" : "here");
    setError(null);
    const res = await postJson<{ ok: true }>("/api/auth/logout", everywhere ? { everywhere: true } : {});
    // A session that is already gone is as signed out as it gets.
    if (res.ok || res.code === "unauthorized") {
      // A full reload (not a client navigation): every server-rendered part sees the guest.
      window.location.assign(new URL(getPathname({ href: "/", locale }), window.location.origin));
      return;
    }
    setBusy(null);
    setError(errorMessage(res));
  };

  return (
    <>
      <div className="actions">
        <button type="button" className="btn" disabled={busy !== null} aria-busy={busy === "here"} onClick={() => void signOut(false)} data-testid="sign-out">
          {busy === "here" ? t("signingOut") : t("signOut")}
        </button>
        <button
          type="button"
          className="btn"
          disabled={busy !== null}
          aria-busy={busy === "everywhere"}
          onClick={() => void signOut(true)}
          data-testid="sign-out-everywhere"
        >
          {busy === "everywhere" ? t("signingOut") : t("signOutEverywhere")}
        </button>
      </div>
      {error ? (
        <div className="alert" role="alert">
          <p style={{ margin: 0 }}>{error}</p>
        </div>
      ) : null}
    </>
  );
}

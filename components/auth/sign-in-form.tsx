"use client";

import { useTranslations } from "next-intl";
import { useEffect, useId, useRef, useState } from "react";
import { postJson } from "@/lib/ui/api-client";
import { track } from "@/lib/ui/track";
import { EmailInput } from "@/components/email-input";
import { useEmailSubmit } from "@/components/use-email-submit";
import { useErrorMessage, type UiError } from "@/components/use-error-message";

interface Props {
  /** A same-site path the sign-in link lands on. */
  next: string;
  /** The page was reached from an invalid, used or expired link (`?error=link_invalid`). */
  linkInvalid: boolean;
  /**
   * `local`: the link goes to the server log. `supabase`: Supabase emails it (PKCE: it works in
   * this browser only), and Google/GitHub sign-in is offered.
   */
  mode: "local" | "supabase";
  /** How long the local link works (Supabase's own expiry is set in its dashboard). */
  ttlMinutes: number;
  perks: string;
}


const START_PATH = { local: "/api/auth/local/start", supabase: "/api/auth/supabase/start" } as const;

/** The OAuth start route; a plain navigation (303 to the provider), so no script is involved. */
function oauthHref(provider: "google" | "github", next: string): string {
  return `/api/auth/supabase/oauth?${new URLSearchParams({ provider, next }).toString()}`;
}

/**
 * Email → one-time sign-in link; then a "check your inbox" state with resend. In Supabase mode,
 * Google and GitHub sign-in first.
 */
export function SignInForm({ next, linkInvalid, mode, ttlMinutes, perks }: Props) {
  const t = useTranslations("signin");
  const errorMessage = useErrorMessage();
  const id = useId();
  const { email, setEmail, busy, error, setError, countdown, emailInput, fieldError, submit } = useEmailSubmit();
  const [sentTo, setSentTo] = useState<string | null>(null);
  const [resent, setResent] = useState(false);
  const [showLinkInvalid, setShowLinkInvalid] = useState(linkInvalid);
  const sentHeading = useRef<HTMLHeadingElement>(null);

  // Move focus to what changed, so keyboard and screen-reader users follow along.
  useEffect(() => {
    if (sentTo) sentHeading.current?.focus();
  }, [sentTo]);

  const send = async (address: string, again: boolean) => {
    const sent = await submit(address, (normalized) => {
      track("signup", { step: again ? "resend" : "request" });
      setResent(false);
      return postJson<{ ok: true }>(START_PATH[mode], { email: normalized, next });
    });
    if (!sent) return;
    setShowLinkInvalid(false);
    setSentTo(sent.address);
    setResent(again);
  };

  const errorText = (e: UiError): string => {
    switch (e.code) {
      case "invalid_email":
      case "invalid_input":
        return t("invalidEmail");
      case "not_found":
        return t("unavailable");
      default:
        return errorMessage(e, countdown);
    }
  };

  const errorId = `${id}-error`;
  const alert = error ? (
    <div className="alert" role="alert" id={errorId} data-testid="signin-error" data-code={error.code}>
      <p style={{ margin: 0 }}>{errorText(error)}</p>
    </div>
  ) : null;
  const waitSuffix = countdown > 0 ? ` (${countdown})` : "";

  if (sentTo) {
    return (
      <section className="card stack narrow" aria-labelledby={`${id}-sent`} data-testid="signin-sent">
        <h2 id={`${id}-sent`} ref={sentHeading} tabIndex={-1}>
          {t("sentTitle")}
        </h2>
        <p style={{ margin: 0 }}>
          {mode === "local" ? t("sentBody", { email: sentTo, minutes: ttlMinutes }) : t("sentBodySupabase", { email: sentTo })}
        </p>
        {mode === "local" ? (
          <p className="notice" style={{ margin: 0 }}>
            {t("localHint")}
          </p>
        ) : null}
        {alert}
        <p className="muted" role="status" style={{ margin: 0, minHeight: "1.5em" }}>
          {resent ? t("resent") : ""}
        </p>
        <div className="actions">
          <button type="button" className="btn" disabled={busy || countdown > 0} aria-busy={busy} onClick={() => void send(sentTo, true)}>
            {busy ? t("sending") : t("resend") + waitSuffix}
          </button>
          <button
            type="button"
            className="btn"
            onClick={() => {
              setSentTo(null);
              setError(null);
              setResent(false);
            }}
          >
            {t("differentEmail")}
          </button>
        </div>
      </section>
    );
  }

  return (
    <form
      className="card stack narrow"
      noValidate
      data-testid="signin-form"
      onSubmit={(e) => {
        e.preventDefault();
        void send(email, false);
      }}
    >
      {showLinkInvalid ? (
        <div className="alert" role="alert" data-testid="link-invalid">
          <p style={{ margin: 0 }}>{t(mode === "supabase" ? "linkInvalidSupabase" : "linkInvalid")}</p>
        </div>
      ) : null}
      {mode === "supabase" ? (
        <>
          <div className="actions" data-testid="signin-oauth">
            <a className="btn btn-block" href={oauthHref("google", next)} onClick={() => track("signup", { step: "oauth_google" })}>
              {t("continueWithGoogle")}
            </a>
            <a className="btn btn-block" href={oauthHref("github", next)} onClick={() => track("signup", { step: "oauth_github" })}>
              {t("continueWithGithub")}
            </a>
          </div>
          <p className="muted" style={{ margin: 0, textAlign: "center" }}>
            {t("orEmail")}
          </p>
        </>
      ) : null}
      <div>
        <label htmlFor={`${id}-email`}>{t("emailLabel")}</label>
        <EmailInput
          ref={emailInput}
          id={`${id}-email`}
          value={email}
          onChange={setEmail}
          invalid={fieldError}
          describedBy={fieldError ? `${errorId} ${id}-hint` : `${id}-hint`}
        />
        <p className="field-hint" id={`${id}-hint`}>
          {t("emailHint")}
        </p>
      </div>
      {alert}
      <button type="submit" className="btn btn-primary btn-block" disabled={busy || countdown > 0} aria-busy={busy}>
        {busy ? t("sending") : t("submit") + waitSuffix}
      </button>
      <p className="muted" style={{ margin: 0 }}>
        {perks}
      </p>
    </form>
  );
}

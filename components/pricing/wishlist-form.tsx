"use client";

import { useLocale, useTranslations } from "next-intl";
import { useEffect, useRef, useState } from "react";
import { postJson } from "@/lib/ui/api-client";
import { track } from "@/lib/ui/track";
import { EmailInput } from "@/components/email-input";
import { useEmailSubmit } from "@/components/use-email-submit";
import { useErrorMessage, type UiError } from "@/components/use-error-message";
import { MAX_WISHLIST_NOTE_CHARS } from "@/lib/util/field-limits";

const SECTION_ID = "waitlist";
const EMAIL_ID = "waitlist-email";

/** The Pro column's call to action: jumps to the waitlist form and counts the intent. */
export function UpgradeLink({ label }: { label: string }) {
  return (
    <a
      className="btn btn-block btn-primary plan-cta"
      href={`#${SECTION_ID}`}
      data-testid="upgrade-link"
      onClick={() => {
        track("upgrade_click", { from: "pricing_table" });
        // After the browser scrolls to the form, put the cursor in it.
        setTimeout(() => document.getElementById(EMAIL_ID)?.focus({ preventScroll: true }), 0);
      }}
    >
      {label}
    </a>
  );
}

interface Props {
  /** The signed-in user's email, or "" for guests. */
  initialEmail: string;
  intro: string;
}

interface Done {
  email: string;
  alreadyListed: boolean;
  withNote: boolean;
}

/** Join the Pro waitlist (deduplicated by email on the server; a repeat updates the note). */
export function WishlistForm({ initialEmail, intro }: Props) {
  const t = useTranslations("pricing.waitlist");
  const errorMessage = useErrorMessage();
  const locale = useLocale();
  const { email, setEmail, busy, error, countdown, emailInput, fieldError, submit: send } = useEmailSubmit(initialEmail);
  const [note, setNote] = useState("");
  const [done, setDone] = useState<Done | null>(null);
  const doneHeading = useRef<HTMLHeadingElement>(null);

  useEffect(() => {
    if (done) doneHeading.current?.focus();
  }, [done]);

  // The server counts UTF-16 units (zod max), so the counter does too.
  const noteLength = note.trim().length;
  const noteTooLong = noteLength > MAX_WISHLIST_NOTE_CHARS;

  const submit = async () => {
    if (noteTooLong) return;
    const sent = await send(email, (address) => {
      track("wish_submit", { withNote: noteLength > 0 });
      return postJson<{ ok: true; alreadyListed: boolean }>("/api/wishlist", {
        email: address,
        ...(note.trim() ? { note: note.trim() } : {}),
        lang: locale === "zh" ? "zh" : "en",
      });
    });
    if (sent) setDone({ email: sent.address, alreadyListed: sent.data.alreadyListed, withNote: noteLength > 0 });
  };

  const errorText = (e: UiError): string => {
    switch (e.code) {
      case "invalid_email":
      case "invalid_input":
        return t("invalidEmail");
      default:
        return errorMessage(e, countdown);
    }
  };

  return (
    <section id={SECTION_ID} className="card stack section-gap waitlist" aria-labelledby="waitlist-title">
      {done ? (
        <div className="stack" data-testid="wishlist-done" data-already={done.alreadyListed}>
          <h2 id="waitlist-title" ref={doneHeading} tabIndex={-1}>
            {done.alreadyListed ? (done.withNote ? t("already") : t("alreadyNoNote")) : t("joined")}
          </h2>
          <p className="notice" role="status" style={{ margin: 0 }}>
            {t("doneBody", { email: done.email })}
          </p>
          <div className="actions">
            <button type="button" className="btn btn-sm" onClick={() => setDone(null)}>
              {t("edit")}
            </button>
          </div>
        </div>
      ) : (
        <form
          className="stack"
          noValidate
          data-testid="wishlist-form"
          onSubmit={(e) => {
            e.preventDefault();
            void submit();
          }}
        >
          <h2 id="waitlist-title">{t("title")}</h2>
          <p className="muted" style={{ margin: 0 }}>
            {intro}
          </p>
          <div className="waitlist-fields">
            <div>
              <label htmlFor={EMAIL_ID}>{t("emailLabel")}</label>
              <EmailInput
                ref={emailInput}
                id={EMAIL_ID}
                value={email}
                onChange={setEmail}
                invalid={fieldError}
                describedBy={fieldError ? "waitlist-error" : undefined}
              />
            </div>
            <div>
              <label htmlFor="waitlist-note">{t("noteLabel")}</label>
              <textarea
                id="waitlist-note"
                name="note"
                className="textarea-short"
                value={note}
                placeholder={t("notePlaceholder")}
                onChange={(e) => setNote(e.target.value)}
                aria-invalid={noteTooLong}
                aria-describedby="waitlist-note-count"
              />
              <div className="field-foot" id="waitlist-note-count">
                <span className={noteTooLong ? "over" : undefined} aria-live="polite">
                  {noteTooLong ? t("noteTooLong", { max: MAX_WISHLIST_NOTE_CHARS }) : ""}
                </span>
                <span className={noteTooLong ? "over" : undefined}>{t("noteCount", { count: noteLength, max: MAX_WISHLIST_NOTE_CHARS })}</span>
              </div>
            </div>
          </div>
          {error ? (
            <div className="alert" role="alert" id="waitlist-error" data-testid="wishlist-error" data-code={error.code}>
              <p style={{ margin: 0 }}>{errorText(error)}</p>
            </div>
          ) : null}
          <button type="submit" className="btn btn-primary waitlist-submit" disabled={busy || countdown > 0 || noteTooLong} aria-busy={busy}>
            {busy ? t("sending") : t("submit") + (countdown > 0 ? ` (${countdown})` : "")}
          </button>
        </form>
      )}
    </section>
  );
}

"use client";

import { useLocale, useTranslations } from "next-intl";
import { useCallback, useEffect, useId, useRef, useState, useSyncExternalStore } from "react";
import { Link } from "@/i18n/navigation";
import { apiFetch, postJson } from "@/lib/ui/api-client";
import { addRecent, recentServerSnapshot, recentSnapshot, subscribeRecent } from "@/lib/ui/recent";
import { sessionId, track } from "@/lib/ui/track";
import { LANGS, MAX_TEXT_CHARS, MODES, PLATFORMS, type Lang, type Mode, type ProviderName } from "@/lib/ai/types";
import { ImagePicker } from "./image-picker";
import { QuotaMeter, useResetIn, type QuotaView } from "./quota-meter";
import { useErrorMessage, type UiError } from "@/components/use-error-message";
import { useCountdown } from "@/components/use-countdown";


/** Each language in its own name, the same in every UI locale. */
const LANG_NAMES: Record<Lang, string> = { en: "English", zh: "中文" };

interface Caption {
  id: string;
  caption: string;
  hashtags: string[];
  cached: boolean;
  provider: ProviderName;
  model: string;
  quota: QuotaView;
}

interface Props {
  viewer: "guest" | "free" | "pro";
  initialQuota: QuotaView;
  demo: boolean;
}

/** Counts characters as people do (an emoji is one). */
const charCount = (text: string) => [...text.trim()].length;

export function Generator({ viewer, initialQuota, demo }: Props) {
  const t = useTranslations("generator");
  const te = useTranslations("errors");
  const errorMessage = useErrorMessage();
  const locale = useLocale();
  const textId = useId();
  const [text, setText] = useState("");
  const [mode, setMode] = useState<Mode>("standard");
  const [lang, setLang] = useState<Lang>(locale === "zh" ? "zh" : "en");
  const [platform, setPlatform] = useState("");
  const [image, setImage] = useState<File | null>(null);
  const [busy, setBusy] = useState(false);
  const [elapsed, setElapsed] = useState(0);
  const [result, setResult] = useState<Caption | null>(null);
  const [error, setError] = useState<UiError | null>(null);
  const [countdown, setCountdown] = useCountdown();
  const [quota, setQuota] = useState(initialQuota);
  const [copied, setCopied] = useState<"caption" | "all" | null>(null);
  const [rated, setRated] = useState<1 | -1 | null>(null);
  const recent = useSyncExternalStore(subscribeRecent, recentSnapshot, recentServerSnapshot);
  const startedAt = useRef(0);
  const resetIn = useResetIn(quota.resetAt);

  useEffect(() => {
    if (!busy) return;
    const timer = setInterval(() => setElapsed(Math.floor((Date.now() - startedAt.current) / 1000)), 250);
    return () => clearInterval(timer);
  }, [busy]);

  const count = charCount(text);
  const tooLong = count > MAX_TEXT_CHARS;
  const canSubmit = count > 0 && !tooLong && !busy && countdown <= 0;

  const refreshQuota = useCallback(async () => {
    const res = await apiFetch<{ quota: QuotaView }>("/api/quota");
    if (res.ok) setQuota(res.data.quota);
  }, []);

  const generate = useCallback(
    async (regenerate: boolean) => {
      if (charCount(text) === 0 || charCount(text) > MAX_TEXT_CHARS || busy) return;
      track("generate_click", { mode, regenerate });
      setBusy(true);
      setError(null);
      setElapsed(0);
      startedAt.current = Date.now();
      // Ties the server's generate_success to this tab's funnel session (docs/RUNBOOK.md "Funnel conversion").
      const headers = { "x-session-id": sessionId() };
      let res;
      if (image) {
        const form = new FormData();
        form.set("text", text);
        form.set("mode", mode);
        form.set("lang", lang);
        if (platform) form.set("platform", platform);
        form.set("regenerate", String(regenerate));
        form.set("image", image);
        res = await apiFetch<Caption>("/api/generate", { method: "POST", headers, body: form });
      } else {
        res = await postJson<Caption>(
          "/api/generate",
          {
            text,
            mode,
            lang,
            ...(platform ? { platform } : {}),
            ...(regenerate ? { regenerate: true } : {}),
          },
          headers,
        );
      }
      setBusy(false);
      if (res.ok) {
        setResult(res.data);
        setQuota(res.data.quota);
        setRated(null);
        setCopied(null);
        if (viewer === "guest") {
          addRecent({
            id: res.data.id,
            text: text.trim().slice(0, 200),
            caption: res.data.caption,
            hashtags: res.data.hashtags,
            mode,
            createdAt: new Date().toISOString(),
          });
        }
        return;
      }
      setError({ code: res.code, retryAfterSeconds: res.retryAfterSeconds });
      if ((res.code === "busy" || res.code === "rate_limited" || res.code === "upstream_unavailable") && res.retryAfterSeconds) {
        setCountdown(Math.min(60, Math.ceil(res.retryAfterSeconds)));
      }
      if (res.code === "quota_exceeded") void refreshQuota();
    },
    [busy, image, lang, mode, platform, refreshQuota, setCountdown, text, viewer],
  );

  const copy = async (what: "caption" | "all") => {
    if (!result) return;
    const value = what === "caption" ? result.caption : `${result.caption}\n\n${result.hashtags.join(" ")}`;
    try {
      await navigator.clipboard.writeText(value);
      setCopied(what);
      setTimeout(() => setCopied(null), 2000);
    } catch {
      setCopied(null);
    }
    track(what === "caption" ? "copy_caption" : "copy_all");
  };

  const rate = async (rating: 1 | -1) => {
    if (!result) return;
    setRated(rating);
    track(rating === 1 ? "feedback_up" : "feedback_down");
    await postJson("/api/feedback", { generationId: result.id, rating });
  };

  const errorText = (e: UiError): string => {
    switch (e.code) {
      case "quota_exceeded":
        return te("quota_exceeded", { time: resetIn ?? "" });
      default:
        return errorMessage(e, countdown);
    }
  };

  return (
    <div className="grid-2">
      <form
        className="card stack"
        onSubmit={(e) => {
          e.preventDefault();
          void generate(false);
        }}
        onKeyDown={(e) => {
          if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) {
            e.preventDefault();
            if (canSubmit) void generate(false);
          }
        }}
      >
        <div>
          <label htmlFor={textId}>{t("textLabel")}</label>
          <textarea
            id={textId}
            name="text"
            value={text}
            placeholder={t("textPlaceholder")}
            onChange={(e) => setText(e.target.value)}
            aria-describedby={`${textId}-count`}
            aria-invalid={tooLong}
          />
          <div className="field-foot" id={`${textId}-count`}>
            <span className={tooLong ? "over" : undefined} aria-live="polite">
              {tooLong ? t("tooLong", { max: MAX_TEXT_CHARS }) : ""}
            </span>
            <span className={tooLong ? "over" : undefined} data-testid="char-count">
              {t("charCount", { count, max: MAX_TEXT_CHARS })}
            </span>
          </div>
        </div>

        <fieldset className="segmented">
          <legend>{t("modeLabel")}</legend>
          {MODES.map((m) => (
            <label key={m}>
              <input type="radio" name="mode" value={m} checked={mode === m} onChange={() => setMode(m)} />
              {t(`modes.${m}`)}
              <small>{t(`modes.${m}Hint`)}</small>
            </label>
          ))}
        </fieldset>

        <div className="row">
          <div>
            <label htmlFor={`${textId}-lang`}>{t("langLabel")}</label>
            <select id={`${textId}-lang`} value={lang} onChange={(e) => setLang(e.target.value === "zh" ? "zh" : "en")}>
              {LANGS.map((l) => (
                <option key={l} value={l}>
                  {LANG_NAMES[l]}
                </option>
              ))}
            </select>
          </div>
          <div>
            <label htmlFor={`${textId}-platform`}>{t("platformLabel")}</label>
            <select id={`${textId}-platform`} value={platform} onChange={(e) => setPlatform(e.target.value)}>
              <option value="">{t("platformAny")}</option>
              {PLATFORMS.map((p) => (
                <option key={p} value={p}>
                  {t(`platforms.${p}`)}
                </option>
              ))}
            </select>
          </div>
        </div>

        <ImagePicker isPro={viewer === "pro"} file={image} onChange={setImage} />

        <div className="stack" style={{ gap: 6 }}>
          <button type="submit" className="btn btn-primary btn-block" disabled={!canSubmit} aria-busy={busy}>
            {busy ? t("generating", { seconds: elapsed }) : t("generate")}
          </button>
          <span className="kbd">{t("shortcut")}</span>
        </div>
        <QuotaMeter quota={quota} />
      </form>

      <section className="card result" aria-labelledby={`${textId}-result`} aria-live="polite" aria-busy={busy}>
        <h2 id={`${textId}-result`}>{t("resultTitle")}</h2>
        {error ? (
          <div className="alert" role="alert" data-testid="generate-error" data-code={error.code}>
            <p style={{ margin: 0 }}>{errorText(error)}</p>
            {error.code === "quota_exceeded" ? (
              <div className="alert-actions">
                {viewer === "guest" ? (
                  <Link className="btn btn-sm btn-primary" href="/signin" onClick={() => track("signup")}>
                    {t("signUpCta")}
                  </Link>
                ) : viewer === "free" ? (
                  <Link className="btn btn-sm btn-primary" href="/pricing" onClick={() => track("upgrade_click")}>
                    {t("upgradeCta")}
                  </Link>
                ) : null}
                <span className="muted">{viewer === "guest" ? te("quota_exceeded_guest") : viewer === "free" ? te("quota_exceeded_user") : ""}</span>
              </div>
            ) : error.code === "busy" || error.code === "upstream_unavailable" || error.code === "rate_limited" || error.code === "network" || error.code === "internal" ? (
              <div className="alert-actions">
                <button type="button" className="btn btn-sm" disabled={countdown > 0 || busy} onClick={() => void generate(false)}>
                  {countdown > 0 ? `${te("retryNow")} (${countdown})` : te("retryNow")}
                </button>
              </div>
            ) : null}
          </div>
        ) : null}
        {busy ? (
          <div className="stack" aria-hidden="true">
            <div className="skeleton" style={{ width: "90%" }} />
            <div className="skeleton" style={{ width: "75%" }} />
            <div className="skeleton" style={{ width: "60%" }} />
          </div>
        ) : result ? (
          <>
            <p className="result-caption" data-testid="caption">
              {result.caption}
            </p>
            <ul className="chips" aria-label={t("hashtagsLabel")} data-testid="hashtags">
              {result.hashtags.map((tag) => (
                <li key={tag} className="chip">
                  {tag}
                </li>
              ))}
            </ul>
            <div className="row" style={{ gap: 6, flex: "0 0 auto" }}>
              {result.cached ? <span className="tag">{t("fromCache")}</span> : null}
              {result.provider === "offline" ? <span className="tag">{t("demoLabel")}</span> : null}
            </div>
            <div className="result-actions">
              <button type="button" className="btn btn-sm" onClick={() => void copy("caption")}>
                {copied === "caption" ? t("copied") : t("copyCaption")}
              </button>
              <button type="button" className="btn btn-sm" onClick={() => void copy("all")}>
                {copied === "all" ? t("copied") : t("copyAll")}
              </button>
              <button type="button" className="btn btn-sm" disabled={!canSubmit} onClick={() => void generate(true)}>
                {t("regenerate")}
              </button>
              <button type="button" className="btn btn-sm" aria-pressed={rated === 1} onClick={() => void rate(1)} aria-label={t("feedbackGood")}>
                👍
              </button>
              <button type="button" className="btn btn-sm" aria-pressed={rated === -1} onClick={() => void rate(-1)} aria-label={t("feedbackBad")}>
                👎
              </button>
            </div>
            {rated !== null ? (
              <p className="muted" role="status" style={{ margin: 0 }}>
                {t("feedbackThanks")}
              </p>
            ) : null}
          </>
        ) : (
          <p className="placeholder">{demo ? t("demoLabel") + " · " + t("emptyResult") : t("emptyResult")}</p>
        )}
      </section>

      {viewer === "guest" ? (
        <section className="card" aria-labelledby={`${textId}-recent`} style={{ gridColumn: "1 / -1" }}>
          <h2 id={`${textId}-recent`}>{t("recentTitle")}</h2>
          {recent.length === 0 ? (
            <p className="muted">{t("recentEmpty")}</p>
          ) : (
            <ul className="list" data-testid="recent">
              {recent.map((item) => (
                <li key={item.id}>
                  <strong>{item.caption}</strong> <span className="muted">{item.hashtags.join(" ")}</span>
                </li>
              ))}
            </ul>
          )}
        </section>
      ) : null}
    </div>
  );
}

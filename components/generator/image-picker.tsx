"use client";

import { useTranslations } from "next-intl";
import { useEffect, useId, useMemo, useRef, useState } from "react";
import { Link } from "@/i18n/navigation";
import { IMAGE_MIMES, MAX_IMAGE_BYTES } from "@/lib/ai/types";

/** The browser's declared type is only a first filter: the server checks the magic bytes. */
const isAcceptedType = (type: string): boolean => (IMAGE_MIMES as readonly string[]).includes(type);

interface Props {
  isPro: boolean;
  file: File | null;
  onChange: (file: File | null) => void;
}

/** Photo input with preview and drag-and-drop (Pro); a clear upsell for everyone else. */
export function ImagePicker({ isPro, file, onChange }: Props) {
  const t = useTranslations("generator.image");
  const inputId = useId();
  const input = useRef<HTMLInputElement>(null);
  const [dragging, setDragging] = useState(false);
  const [problem, setProblem] = useState<string | null>(null);
  const preview = useMemo(() => (file ? URL.createObjectURL(file) : null), [file]);
  useEffect(() => () => (preview ? URL.revokeObjectURL(preview) : undefined), [preview]);

  if (!isPro) {
    return (
      <div className="upsell">
        {t("proOnly")} <Link href="/pricing">{t("seePlans")}</Link>
      </div>
    );
  }

  const accept = (candidate: File | undefined) => {
    if (!candidate) return;
    if (!isAcceptedType(candidate.type)) return setProblem(t("badType"));
    if (candidate.size > MAX_IMAGE_BYTES) return setProblem(t("tooLarge"));
    setProblem(null);
    onChange(candidate);
  };

  return (
    <div>
      <label htmlFor={inputId}>{t("label")}</label>
      {file && preview ? (
        <div className="preview">
          {/* A local blob preview: next/image has nothing to optimise here. */}
          {/* eslint-disable-next-line @next/next/no-img-element */}
          <img src={preview} alt={t("previewAlt")} />
          <span className="muted">{file.name}</span>
          <button type="button" className="btn btn-sm" onClick={() => onChange(null)}>
            {t("remove")}
          </button>
        </div>
      ) : (
        <div
          className={`dropzone${dragging ? " dragging" : ""}`}
          onDragOver={(e) => {
            e.preventDefault();
            setDragging(true);
          }}
          onDragLeave={() => setDragging(false)}
          onDrop={(e) => {
            e.preventDefault();
            setDragging(false);
            accept(e.dataTransfer.files[0]);
          }}
        >
          <p className="muted" style={{ margin: "0 0 8px" }}>
            {t("drop")}
          </p>
          <button type="button" className="btn btn-sm" onClick={() => input.current?.click()}>
            {t("choose")}
          </button>
          <p className="kbd" style={{ margin: "8px 0 0" }}>
            {t("hint")}
          </p>
        </div>
      )}
      <input
        id={inputId}
        ref={input}
        className="sr-only"
        type="file"
        accept={IMAGE_MIMES.join(",")}
        onChange={(e) => {
          accept(e.target.files?.[0]);
          e.target.value = "";
        }}
      />
      {problem ? (
        <p role="alert" className="field-foot">
          <span className="over">{problem}</span>
        </p>
      ) : null}
    </div>
  );
}

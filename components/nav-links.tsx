"use client";

import { useLocale } from "next-intl";
import { useEffect, useRef, useState } from "react";
import { Link, usePathname } from "@/i18n/navigation";
import { routing } from "@/i18n/routing";

const LANGUAGE_NAMES: Record<string, string> = { en: "English", zh: "中文" };
const NAV_ID = "site-nav";

interface Props {
  signedIn: boolean;
  labels: Record<"brand" | "main" | "menu" | "generate" | "history" | "pricing" | "account" | "signIn" | "language", string>;
}

/**
 * The brand, the main links and the language switch. On phones (≤ 640 px, see the chrome styles)
 * the links fold behind a Menu button so the header stays one row; on wider screens the button is
 * hidden and the links show inline.
 */
export function NavLinks({ signedIn, labels }: Props) {
  const pathname = usePathname();
  const locale = useLocale();
  // The menu is open on the page it was opened on: any navigation closes it without an effect.
  const [openOn, setOpenOn] = useState<string | null>(null);
  const open = openOn === pathname;
  const button = useRef<HTMLButtonElement>(null);

  useEffect(() => {
    if (!open) return;
    const onKey = (event: KeyboardEvent) => {
      if (event.key !== "Escape") return;
      setOpenOn(null);
      button.current?.focus();
    };
    document.addEventListener("keydown", onKey);
    return () => document.removeEventListener("keydown", onKey);
  }, [open]);

  const close = () => setOpenOn(null);
  const current = (href: string) => (pathname === href ? "page" : undefined);
  const links = [
    { href: "/", label: labels.generate },
    { href: "/history", label: labels.history },
    { href: "/pricing", label: labels.pricing },
    signedIn ? { href: "/account", label: labels.account } : { href: "/signin", label: labels.signIn },
  ];
  return (
    <>
      <Link href="/" className="brand" onClick={close}>
        <svg className="brand-mark" viewBox="0 0 64 64" aria-hidden="true">
          <rect width="64" height="64" rx="14" fill="#c2410c" />
          <path d="M34 8 18 36h12l-4 20 20-30H34l4-18z" fill="#fff" />
        </svg>
        {labels.brand}
      </Link>
      <button
        ref={button}
        type="button"
        className="menu-button"
        aria-expanded={open}
        aria-controls={NAV_ID}
        onClick={() => setOpenOn(open ? null : pathname)}
      >
        <svg viewBox="0 0 24 24" width="20" height="20" aria-hidden="true">
          {open ? (
            <path d="M6 6l12 12M18 6 6 18" stroke="currentColor" strokeWidth="2" strokeLinecap="round" />
          ) : (
            <path d="M4 7h16M4 12h16M4 17h16" stroke="currentColor" strokeWidth="2" strokeLinecap="round" />
          )}
        </svg>
        <span>{labels.menu}</span>
      </button>
      <nav id={NAV_ID} className="nav" data-open={open} aria-label={labels.main}>
        {links.map((link) => (
          <Link key={link.href} href={link.href} aria-current={current(link.href)} onClick={close}>
            {link.label}
          </Link>
        ))}
        <span className="lang-switch" role="group" aria-label={labels.language}>
          {routing.locales.map((l) => (
            <Link
              key={l}
              href={pathname}
              locale={l}
              lang={l === "zh" ? "zh-CN" : "en"}
              aria-current={l === locale ? "true" : undefined}
              onClick={close}
            >
              {LANGUAGE_NAMES[l]}
            </Link>
          ))}
        </span>
      </nav>
    </>
  );
}

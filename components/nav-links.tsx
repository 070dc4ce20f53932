"use client";

import { useLocale } from "next-intl";
import { Link, usePathname } from "@/i18n/navigation";
import { routing } from "@/i18n/routing";

const LANGUAGE_NAMES: Record<string, string> = { en: "English", zh: "中文" };

interface Props {
  signedIn: boolean;
  labels: Record<"brand" | "main" | "generate" | "history" | "pricing" | "account" | "signIn" | "language", string>;
}

export function NavLinks({ signedIn, labels }: Props) {
  const pathname = usePathname();
  const locale = useLocale();
  const current = (href: string) => (pathname === href ? "page" : undefined);
  const links = [
    { href: "/", label: labels.generate },
    { href: "/history", label: labels.history },
    { href: "/pricing", label: labels.pricing },
    signedIn ? { href: "/account", label: labels.account } : { href: "/signin", label: labels.signIn },
  ];
  return (
    <>
      <Link href="/" className="brand">
        <svg className="brand-mark" viewBox="0 0 64 64" aria-hidden="true">
          <rect width="64" height="64" rx="14" fill="#c2410c" />
          <path d="M34 8 18 36h12l-4 20 20-30H34l4-18z" fill="#fff" />
        </svg>
        {labels.brand}
      </Link>
      <nav className="nav" aria-label={labels.main}>
        {links.map((link) => (
          <Link key={link.href} href={link.href} aria-current={current(link.href)}>
            {link.label}
          </Link>
        ))}
        <span className="lang-switch" role="group" aria-label={labels.language}>
          {routing.locales.map((l) => (
            <Link key={l} href={pathname} locale={l} lang={l === "zh" ? "zh-CN" : "en"} aria-current={l === locale ? "true" : undefined}>
              {LANGUAGE_NAMES[l]}
            </Link>
          ))}
        </span>
      </nav>
    </>
  );
}

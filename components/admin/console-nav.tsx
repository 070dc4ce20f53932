"use client";

import { Link, usePathname } from "@/i18n/navigation";

interface Props {
  pages: readonly { path: string; title: string }[];
  role: "moderator" | "admin";
}

/** The console's section links; the current page is marked for assistive technology too. */
export function ConsoleNav({ pages, role }: Props) {
  const pathname = usePathname();
  return (
    <nav className="console-nav" aria-label="Console">
      <ul>
        {pages.map((page) => {
          const href = `/admin${page.path}`;
          return (
            <li key={href}>
              <Link href={href} aria-current={pathname === href ? "page" : undefined}>
                {page.title}
              </Link>
            </li>
          );
        })}
      </ul>
      <p className="small muted">{role === "admin" ? "Signed in as an admin." : "Signed in as a moderator: read-only."}</p>
    </nav>
  );
}

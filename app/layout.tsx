import type { ReactNode } from "react";
// The brand typeface, self-hosted: its woff2 files are bundled with the app (no download at build).
import "@fontsource-variable/inter";
import "./globals.css";

/** The document is rendered by app/[locale]/layout.tsx, which knows the language. */
export default function RootLayout({ children }: { children: ReactNode }) {
  return children;
}

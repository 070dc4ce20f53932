import Link from "next/link";

/** Paths outside the localized app (e.g. a mistyped file name): a plain document of its own. */
export default function GlobalNotFound() {
  return (
    <html lang="en">
      <body>
        <main>
          <h1>Page not found</h1>
          <p>
            <Link href="/">Back to LitStatus</Link>
          </p>
        </main>
      </body>
    </html>
  );
}

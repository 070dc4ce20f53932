import "server-only";
import { notFound } from "next/navigation";
import { getPageViewer } from "@/lib/auth/page-viewer";
import type { Viewer } from "@/lib/auth/viewer";

export type ConsoleViewer = Extract<Viewer, { kind: "user" }> & { role: "moderator" | "admin" };

/**
 * The viewer of a console page: an admin (full) or a moderator (read-only). Everyone else gets
 * the ordinary 404 page, so the console's existence is not advertised. The console's data comes
 * from routes with their own policy (`auth: "moderator"` to read, `"admin"` to write): this
 * check hides pages, it does not guard data.
 */
export async function requireConsoleViewer(): Promise<ConsoleViewer> {
  const viewer = await getPageViewer();
  if (viewer.kind !== "user" || (viewer.role !== "moderator" && viewer.role !== "admin")) notFound();
  return viewer as ConsoleViewer;
}

export { CONSOLE_PAGES } from "./console-pages";

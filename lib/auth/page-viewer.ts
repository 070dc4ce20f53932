import "server-only";
import { headers } from "next/headers";
import { cache } from "react";
import { AppError } from "@/lib/errors";
import { getViewer, type Viewer } from "./viewer";

/**
 * The viewer for a server-rendered page, once per render. A stale or revoked session renders
 * as a guest (pages never fail on it; the API answers 401 and the UI offers sign-in).
 */
export const getPageViewer = cache(async (): Promise<Viewer> => {
  const request = new Request("http://page.local/", { headers: await headers() });
  try {
    // Not reported: every page render with a stale cookie would repeat the same event; the
    // API calls the page makes report it once and clear the cookie.
    return await getViewer(request, { reportFailures: false });
  } catch (error) {
    // A disabled account renders as signed out too.
    if (error instanceof AppError && (error.code === "unauthorized" || error.code === "account_disabled")) return { kind: "guest" };
    throw error;
  }
});

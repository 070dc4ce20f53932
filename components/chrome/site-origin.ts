import "server-only";
import { headers } from "next/headers";
import { publicOrigin } from "@/lib/auth/local";
import { getEnv } from "@/lib/env";

/**
 * The origin absolute URLs (share tags, sitemap, robots) point at: APP_URL when set (production
 * sets it), else the host this request addressed, the same rule as sign-in links.
 */
export async function siteOrigin(): Promise<string> {
  const request = new Request("http://localhost/", { headers: await headers() });
  return publicOrigin(request, getEnv());
}

/** The share image (public/og.png, 1200×630). */
export const OG_IMAGE = { url: "/og.png", width: 1200, height: 630, type: "image/png" } as const;

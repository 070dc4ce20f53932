import { AppError, HTTP_METHODS, route, type HttpMethod, type RouteHandler } from "@/lib/http/route";

export const dynamic = "force-dynamic";

/** Any /api path without a route of its own: the 404 envelope, whatever the method. */
const notFound = route("api.not_found", { auth: "anyone", sameOrigin: false, limit: null }, async () => {
  throw new AppError("not_found", "No API route matches this path.");
});

const all = Object.fromEntries(HTTP_METHODS.map((method) => [method, notFound])) as Record<HttpMethod, RouteHandler>;
export const { GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS } = all;

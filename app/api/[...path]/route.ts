import { AppError, route } from "@/lib/http/route";

export const dynamic = "force-dynamic";

/** Any /api path without a route of its own: the 404 envelope, whatever the method. */
const notFound = route("api.not_found", async () => {
  throw new AppError("not_found", "No API route matches this path.");
});

export const GET = notFound;
export const POST = notFound;
export const PUT = notFound;
export const PATCH = notFound;
export const DELETE = notFound;

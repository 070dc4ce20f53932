// The bare route the benchmark compares LitStatus against: no wrapper, no stores, no logging.
export const dynamic = "force-dynamic";

export function GET() {
  return Response.json({ status: "ok", timestamp: new Date().toISOString() });
}

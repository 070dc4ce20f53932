/** Browser-side calls to our API: every failure becomes the envelope's code, never a throw. */
export type ApiResult<T> =
  | { ok: true; data: T }
  | { ok: false; status: number; code: string; message: string; retryAfterSeconds?: number };

export async function apiFetch<T>(input: string, init: RequestInit = {}): Promise<ApiResult<T>> {
  let res: Response;
  try {
    res = await fetch(input, { ...init, credentials: "same-origin" });
  } catch {
    return { ok: false, status: 0, code: "network", message: "" };
  }
  return readJsonResult<T>(res);
}

/** A fetched JSON answer as an ApiResult: the data, or the envelope's code (by status when not JSON). */
export async function readJsonResult<T>(res: Response): Promise<ApiResult<T>> {
  let body: unknown = null;
  try {
    body = await res.json();
  } catch {
    // Not JSON (a proxy's error page): handled below by status.
  }
  if (res.ok) return { ok: true, data: body as T };
  const envelope = (body as { error?: { code?: string; message?: string } } | null)?.error;
  const retryAfter = Number(res.headers.get("retry-after"));
  return {
    ok: false,
    status: res.status,
    code: envelope?.code ?? (res.status >= 500 ? "internal" : "invalid_input"),
    message: envelope?.message ?? "",
    ...(Number.isFinite(retryAfter) && retryAfter > 0 ? { retryAfterSeconds: retryAfter } : {}),
  };
}

export function postJson<T>(url: string, body: unknown, headers: Record<string, string> = {}): Promise<ApiResult<T>> {
  return apiFetch<T>(url, { method: "POST", headers: { ...headers, "content-type": "application/json" }, body: JSON.stringify(body) });
}

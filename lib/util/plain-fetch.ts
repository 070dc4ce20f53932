/**
 * The runtime's own fetch, not Next's patched one. Inside Next's server the global fetch is a
 * wrapper that adds Data Cache lookups, trace spans and, for a request with a body, an extra
 * Request object before calling the real fetch: work an API client talking to OpenAI gains
 * nothing from (every call is `no-store`, POST). Next keeps the function it wrapped as
 * `_nextOriginalFetch`; outside Next (tests, scripts) or if a later version stops keeping it,
 * this is the global fetch as it is.
 *
 * Looked up at call time: Next patches the global after our modules may have loaded.
 */
type MaybePatched = typeof fetch & { _nextOriginalFetch?: typeof fetch };

export function plainFetch(input: string | URL | Request, init?: RequestInit): Promise<Response> {
  const current = globalThis.fetch as MaybePatched;
  return (current._nextOriginalFetch ?? current)(input, init);
}

/**
 * Runs once per server process, before routes handle requests: installs the peer-address layer
 * (the client identity of PRODUCT §6), then checks the configuration (a bad value stops
 * start-up with one line naming the variable) and opens the embedded database.
 *
 * `npm start` (scripts/start.mjs) calls this itself before the standalone server opens its
 * port, then Next calls it again: the second call returns the first one's promise.
 */
const globals = globalThis as unknown as { __litstatusRegistered?: Promise<void> };

export function register(): Promise<void> {
  // NEXT_RUNTIME is a build constant set by Next, not configuration: the edge bundle skips this.
  if (process.env.NEXT_RUNTIME !== "nodejs") return Promise.resolve();
  globals.__litstatusRegistered ??= (async () => {
    const { installPeerAddressLayer } = await import("./lib/http/peer-address");
    installPeerAddressLayer();
    const { startServer } = await import("./lib/startup");
    await startServer();
  })();
  return globals.__litstatusRegistered;
}

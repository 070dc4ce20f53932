/**
 * Runs once when a server instance starts. Bad configuration stops start-up with one line
 * naming the variable; the embedded database is opened (and migrated) before the first request.
 */
export async function register(): Promise<void> {
  // NEXT_RUNTIME is a build constant set by Next, not configuration: the edge bundle skips this.
  if (process.env.NEXT_RUNTIME !== "nodejs") return;
  const { startServer } = await import("./lib/startup");
  await startServer();
}

/**
 * Whether a handshake may go on, by its `Origin`: none (not a browser: the CLI, other services,
 * tests), the page's own origin (a page this service serves), or one listed in `CORS_ORIGINS`.
 * A browser page elsewhere is refused, so it cannot open a socket with a token it got hold of.
 * CORS alone does not protect sockets: browsers send any page's WebSocket handshake.
 */
export function originAllowed(
  origin: string | undefined,
  host: string | undefined,
  allowed: string[],
): boolean {
  if (origin === undefined) return true;
  if (allowed.includes(origin)) return true;
  try {
    return host !== undefined && new URL(origin).host === host;
  } catch {
    return false;
  }
}

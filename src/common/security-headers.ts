import type { NextFunction, Request, RequestHandler, Response } from 'express';
import helmet from 'helmet';

/** The OpenAPI UI and its assets: /docs, /docs/..., /docs-json. */
const DOCS = /^\/docs(\/|-json|$)/;
/** The API: per-user data. Case-insensitive, as Express routes are. */
const API = /^\/notifications\/api(\/|$)/i;

type Header = readonly [name: string, value: string];

/**
 * The headers a helmet middleware sets, found once by running it against a response that only
 * records them. helmet's headers depend on its options alone (no CSP directive here is a
 * function of the request), so every response gets the same ones: setting them from this list
 * costs one `setHeader` each, where helmet runs a chain of a dozen middlewares per request.
 * Its one removal, `X-Powered-By`, is left to the app, which never sets that header.
 */
export function headersOf(middleware: RequestHandler): readonly Header[] {
  const headers: Header[] = [];
  const recorder = {
    setHeader(name: string, value: number | string | readonly string[]) {
      headers.push([name, String(value)]);
      return recorder;
    },
    removeHeader() {},
  };
  let done = false;
  void middleware({} as Request, recorder as unknown as Response, (error?: unknown) => {
    if (error instanceof Error) throw error;
    if (error !== undefined) throw new Error('helmet failed to set its headers');
    done = true;
  });
  if (!done) throw new Error('helmet did not set its headers synchronously');
  return headers;
}

/**
 * helmet's security headers on every response, with two changes. The Content-Security-Policy
 * leaves out `upgrade-insecure-requests`: the service is often served over plain HTTP (behind
 * the compose file's nginx, or on a LAN address), where browsers would then fetch the page's
 * scripts over HTTPS and fail. And /docs goes without a CSP at all: the Swagger UI is
 * third-party code that renders under the policy today, but a page that serves no user data is
 * not worth breaking when its assets change.
 *
 * API responses also get `Cache-Control: no-store`, set before any route or body parser runs
 * so that errors carry it too: a user's notifications must not linger in a browser's or a
 * proxy's cache after logout, nor be answered from one to the next user of the machine.
 */
export function securityHeaders(): RequestHandler {
  const strict = headersOf(
    helmet({ contentSecurityPolicy: { directives: { upgradeInsecureRequests: null } } }),
  );
  const docs = headersOf(helmet({ contentSecurityPolicy: false }));
  return (request: Request, response: Response, next: NextFunction) => {
    const { path } = request;
    const headers = DOCS.test(path) ? docs : strict;
    for (const [name, value] of headers) response.setHeader(name, value);
    if (API.test(path)) response.setHeader('Cache-Control', 'no-store');
    next();
  };
}

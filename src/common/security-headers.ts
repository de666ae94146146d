import type { NextFunction, Request, RequestHandler, Response } from 'express';
import helmet from 'helmet';

/** The OpenAPI UI and its assets: /docs, /docs/..., /docs-json. */
const DOCS = /^\/docs(\/|-json|$)/;
/** The API: per-user data. Case-insensitive, as Express routes are. */
const API = /^\/notifications\/api(\/|$)/i;

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
  const strict = helmet({
    contentSecurityPolicy: { directives: { upgradeInsecureRequests: null } },
  });
  const docs = helmet({ contentSecurityPolicy: false });
  return (request: Request, response: Response, next: NextFunction) => {
    if (API.test(request.path)) response.setHeader('Cache-Control', 'no-store');
    (DOCS.test(request.path) ? docs : strict)(request, response, next);
  };
}

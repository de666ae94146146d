import type { NextFunction, Request, RequestHandler, Response } from 'express';
import helmet from 'helmet';

/** The OpenAPI UI and its assets: /docs, /docs/..., /docs-json. */
const DOCS = /^\/docs(\/|-json|$)/;

/**
 * helmet's security headers on every response, with two changes. The Content-Security-Policy
 * leaves out `upgrade-insecure-requests`: the service is often served over plain HTTP (behind
 * the compose file's nginx, or on a LAN address), where browsers would then fetch the page's
 * scripts over HTTPS and fail. And /docs goes without a CSP at all: the Swagger UI is
 * third-party code that renders under the policy today, but a page that serves no user data is
 * not worth breaking when its assets change.
 */
export function securityHeaders(): RequestHandler {
  const strict = helmet({
    contentSecurityPolicy: { directives: { upgradeInsecureRequests: null } },
  });
  const docs = helmet({ contentSecurityPolicy: false });
  return (request: Request, response: Response, next: NextFunction) =>
    (DOCS.test(request.path) ? docs : strict)(request, response, next);
}

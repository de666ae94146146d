import type { Request, RequestHandler, Response } from 'express';
import helmet from 'helmet';
import { IncomingMessage, ServerResponse } from 'node:http';
import { Socket } from 'node:net';
import { headersOf, securityHeaders } from './security-headers';

/** A real Node response for `path`, and what a handler set on it. */
function headersAfter(handler: RequestHandler, path: string): Record<string, unknown> {
  const request = new IncomingMessage(new Socket());
  const response = new ServerResponse(request);
  let called = false;
  void handler({ path } as Request, response as unknown as Response, () => (called = true));
  expect(called).toBe(true);
  return response.getHeaders();
}

const strictHelmet = helmet({
  contentSecurityPolicy: { directives: { upgradeInsecureRequests: null } },
});
const docsHelmet = helmet({ contentSecurityPolicy: false });

describe('securityHeaders', () => {
  const handler = securityHeaders();

  it('sets on API responses what helmet sets, and no-store', () => {
    expect(headersAfter(handler, '/notifications/api/list/')).toEqual({
      ...headersAfter(strictHelmet, '/notifications/api/list/'),
      'cache-control': 'no-store',
    });
    expect(headersAfter(handler, '/NOTIFICATIONS/API/list')).toMatchObject({
      'cache-control': 'no-store',
    });
  });

  it('sets what helmet sets elsewhere, a CSP without upgrade-insecure-requests, no no-store', () => {
    const headers = headersAfter(handler, '/health');
    expect(headers).toEqual(headersAfter(strictHelmet, '/health'));
    expect(headers['content-security-policy']).toContain("default-src 'self'");
    expect(headers['content-security-policy']).not.toContain('upgrade-insecure-requests');
    expect(headers['x-content-type-options']).toBe('nosniff');
    expect(headers['cache-control']).toBeUndefined();
  });

  it('leaves the CSP out on the OpenAPI UI and its document', () => {
    for (const path of ['/docs', '/docs/', '/docs/swagger-ui.css', '/docs-json']) {
      const headers = headersAfter(handler, path);
      expect(headers).toEqual(headersAfter(docsHelmet, path));
      expect(headers['content-security-policy']).toBeUndefined();
      expect(headers['x-frame-options']).toBe('SAMEORIGIN');
    }
  });
});

describe('headersOf', () => {
  it('records every header a middleware sets, in order', () => {
    const middleware: RequestHandler = (_request, response, next) => {
      response.setHeader('A', 'one');
      response.setHeader('B', 2);
      next();
    };
    expect(headersOf(middleware)).toEqual([
      ['A', 'one'],
      ['B', '2'],
    ]);
  });

  it('refuses a middleware that does not finish at once, or fails', () => {
    expect(() => headersOf(() => undefined)).toThrow(/synchronously/);
    expect(() => headersOf((_request, _response, next) => next(new Error('bad')))).toThrow('bad');
  });
});

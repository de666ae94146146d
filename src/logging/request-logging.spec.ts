import { IncomingMessage, ServerResponse } from 'node:http';
import { Socket } from 'node:net';
import type { Level } from 'pino';
import { createHttpLogger, createRootLogger, redactUrl, requestIdFor } from './request-logging';

describe('redactUrl', () => {
  it('hides the values of token-like query parameters', () => {
    expect(redactUrl('/ws/?token=abc.def.ghi&EIO=4')).toBe('/ws/?token=[redacted]&EIO=4');
    expect(redactUrl('/x?Access_Token=1&jwt=2&limit=3')).toBe(
      '/x?Access_Token=[redacted]&jwt=[redacted]&limit=3',
    );
    expect(redactUrl('/x?%74oken=1')).toBe('/x?%74oken=[redacted]');
  });

  it.each([
    ['/x?token[]=s3cr3t', '/x?token[]=[redacted]'],
    ['/x?token%5B%5D=s3cr3t', '/x?token%5B%5D=[redacted]'],
    ['/x?refresh_token=s3cr3t&limit=1', '/x?refresh_token=[redacted]&limit=1'],
    ['/x?bearer=s3cr3t', '/x?bearer=[redacted]'],
    ['/x?session=s3cr3t', '/x?session=[redacted]'],
    ['/x?a=1;token=s3cr3t', '/x?a=1;token=[redacted]'],
    ['/x?user[password]=s3cr3t', '/x?user[password]=[redacted]'],
    ['/x?X-Api-Key=s3cr3t', '/x?X-Api-Key=[redacted]'],
    ['/x?sig=s3cr3t&key=s3cr3t', '/x?sig=[redacted]&key=[redacted]'],
    ['/x?Authorization=Bearer%20s3cr3t', '/x?Authorization=[redacted]'],
  ])('hides token-like parameters however they are spelled: %s', (url, logged) => {
    expect(redactUrl(url)).toBe(logged);
  });

  it('hides anything shaped like a JWT, named or not, in the query or the path', () => {
    const jwt = 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl';
    expect(redactUrl(`/x?${jwt}`)).toBe('/x?[redacted]');
    expect(redactUrl(`/x?q=${jwt}&limit=2`)).toBe('/x?q=[redacted]&limit=2');
    expect(redactUrl(`/t/${jwt}/view`)).toBe('/t/[redacted]/view');
  });

  it('leaves other URLs alone', () => {
    expect(redactUrl('/notifications/api/list/?limit=20&unread=true')).toBe(
      '/notifications/api/list/?limit=20&unread=true',
    );
    expect(redactUrl('/health')).toBe('/health');
    expect(redactUrl('/x?%E0%A4%A=1')).toBe('/x?%E0%A4%A=1');
  });
});

describe('requestIdFor', () => {
  it('keeps a plain token from the caller', () => {
    expect(requestIdFor('b7c1-42.api:edge@lb_1')).toBe('b7c1-42.api:edge@lb_1');
    expect(requestIdFor(['first', 'second'])).toBe('first');
  });

  it.each([[undefined], [''], ['has space'], ['x'.repeat(129)], ['new\nline']])(
    'makes up a UUID instead of %j',
    (header) => {
      expect(requestIdFor(header)).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-/);
    },
  );
});

describe('createHttpLogger', () => {
  /** A logger at `level` whose lines land in the returned array, parsed. */
  function capture(level: Level = 'debug') {
    const lines: Record<string, unknown>[] = [];
    const destination = {
      write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>),
    };
    return { lines, root: createRootLogger({ logLevel: level, nodeEnv: 'test' }, destination) };
  }

  /** Runs one request through the middleware; `respond` acts before the response closes. */
  function serve(
    root: ReturnType<typeof capture>['root'],
    url: string,
    respond: (req: { user?: { id: number } }, res: ServerResponse) => void,
  ) {
    const req = Object.assign(new IncomingMessage(new Socket()), {
      method: 'GET',
      url,
      originalUrl: url,
      headers: { 'x-request-id': 'r-1' },
    });
    const res = new ServerResponse(req);
    let nextCalled = false;
    createHttpLogger(root)(req, res, () => (nextCalled = true));
    expect(nextCalled).toBe(true);
    expect(res.getHeader('X-Request-Id')).toBe('r-1');
    respond(req as { user?: { id: number } }, res);
    res.emit('finish');
    res.emit('close');
    return req;
  }

  it('writes one line when the response closes, with the user known by then', () => {
    const { lines, root } = capture();
    serve(root, '/notifications/api/list/?limit=2&token=abc', (req, res) => {
      req.user = { id: 4 };
      res.statusCode = 200;
    });
    expect(lines).toEqual([
      expect.objectContaining({
        level: 'info',
        reqId: 'r-1',
        req: {
          id: 'r-1',
          method: 'GET',
          url: '/notifications/api/list/?limit=2&token=[redacted]',
        },
        userId: 4,
        res: { statusCode: 200 },
        responseTime: expect.any(Number),
        msg: 'GET /notifications/api/list/?limit=2&token=[redacted] 200',
      }),
    ]);
  });

  it('logs a 5xx at error with an err, and probes at debug', () => {
    const { lines, root } = capture();
    serve(root, '/notifications/api/list/', (_req, res) => (res.statusCode = 503));
    serve(root, '/health', (_req, res) => (res.statusCode = 200));
    expect(lines).toEqual([
      expect.objectContaining({
        level: 'error',
        res: { statusCode: 503 },
        err: expect.objectContaining({ message: 'failed with status code 503' }),
        msg: 'GET /notifications/api/list/ 503',
      }),
      expect.objectContaining({ level: 'debug', msg: 'GET /health 200' }),
    ]);
  });

  it('writes nothing below its level', () => {
    const { lines, root } = capture('info');
    serve(root, '/health', (_req, res) => (res.statusCode = 200));
    expect(lines).toEqual([]);
  });
});

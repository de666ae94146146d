import { Writable } from 'node:stream';
import request from 'supertest';
import { LOG_DESTINATION } from '../src/logging/logging.module';
import { startApp } from './support/app';
import { createUser } from './support/fixtures';
import { bearer, signToken } from './support/tokens';

interface LogLine {
  level: string;
  msg: string;
  reqId?: string;
  userId?: number;
  responseTime?: number;
  req?: { method: string; url: string };
  res?: { statusCode: number };
}

/** The app as `startApp` boots it, with its log lines captured instead of written to stdout. */
async function startLoggedApp(env: Record<string, string>) {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
      done();
    },
  });
  const started = await startApp(env, { overrides: [[LOG_DESTINATION, destination]] });
  return {
    ...started,
    lines,
    /** The parsed lines that logged the completion of the request with this id. */
    requests: (reqId: string): LogLine[] =>
      lines
        .map((line) => JSON.parse(line) as LogLine)
        .filter((line) => line.reqId === reqId && line.res !== undefined),
  };
}

describe('request logs', () => {
  let logged: Awaited<ReturnType<typeof startLoggedApp>>;
  beforeAll(async () => {
    logged = await startLoggedApp({ NODE_ENV: 'production', LOG_LEVEL: 'info' });
  });
  afterAll(() => logged.close());

  it('logs one JSON line per request with its id, user and latency', async () => {
    const user = await createUser(logged);
    const response = await request(logged.url)
      .get('/notifications/api/list/?limit=2')
      .set(bearer(signToken(user)))
      .set('X-Request-Id', 'req-42.abc')
      .expect(200);
    expect(response.headers['x-request-id']).toBe('req-42.abc');
    const [line] = logged.requests('req-42.abc');
    expect(line).toMatchObject({
      level: 'info',
      reqId: 'req-42.abc',
      userId: user.id,
      req: { method: 'GET', url: '/notifications/api/list/?limit=2' },
      res: { statusCode: 200 },
    });
    expect(line.responseTime).toEqual(expect.any(Number));
  });

  it('makes up a request id when the caller sends none or a suspicious one', async () => {
    const none = await request(logged.url).get('/nowhere');
    const bad = await request(logged.url)
      .get('/nowhere')
      .set('X-Request-Id', 'two words; "quoted"');
    const long = await request(logged.url).get('/nowhere').set('X-Request-Id', 'x'.repeat(300));
    for (const response of [none, bad, long]) {
      const id: string = response.headers['x-request-id'];
      expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
      expect(logged.requests(id)).toMatchObject([{ level: 'info', res: { statusCode: 404 } }]);
    }
  });

  it('never logs tokens, whether in the Authorization header or the query', async () => {
    const user = await createUser(logged);
    const token = signToken(user);
    // The list route rejects the unknown parameter (400); the request is logged all the same.
    await request(logged.url)
      .get(`/notifications/api/list/?access_token=${token}&limit=1`)
      .set(bearer(token))
      .set('X-Request-Id', 'with-token')
      .expect(400);
    const [line] = logged.requests('with-token');
    expect(line.req?.url).toContain('access_token=[redacted]');
    expect(logged.lines.join('\n')).not.toContain(token);
    expect(logged.lines.join('\n')).not.toContain(token.split('.')[2]);
  });

  it.each([
    ['token[]', (token: string) => `token[]=${token}`],
    ['refresh_token', (token: string) => `refresh_token=${token}`],
    ['bearer', (token: string) => `bearer=${token}`],
    ['session', (token: string) => `session=${token}`],
    ['a=1;token', (token: string) => `a=1;token=${token}`],
    ['an unnamed JWT', (token: string) => token],
  ])('never logs a token passed as %s', async (name, query) => {
    const secret = `s3cr3t-${name.replace(/\W/g, '')}-${Date.now()}`;
    const reqId = `param-${name.replace(/\W/g, '')}`;
    const token = signToken(await createUser(logged));
    // Unnamed, only a JWT's shape gives a value away.
    const values = name === 'an unnamed JWT' ? [token] : [secret, token];
    for (const value of values) {
      await request(logged.url)
        .get(`/nowhere?${query(value)}`)
        .set('X-Request-Id', reqId)
        .expect(404);
    }
    expect(logged.requests(reqId)).toHaveLength(values.length);
    const all = logged.lines.join('\n');
    for (const value of [secret, token, token.split('.')[2]]) expect(all).not.toContain(value);
  });

  it('never logs notification text', async () => {
    const staff = await createUser(logged, { staff: true });
    const mensaje = `Gasto de 245,80 € pendiente ${Date.now()}`;
    await request(logged.url)
      .post('/notifications/api/send/')
      .set(bearer(signToken(staff)))
      .set('X-Request-Id', 'with-mensaje')
      .send({ usuarios: [staff.id], mensaje })
      .expect(201);
    expect(logged.requests('with-mensaje')).toMatchObject([{ userId: staff.id }]);
    expect(logged.lines.join('\n')).not.toContain(mensaje);
  });

  it('logs requests the body parser rejects, before any route runs', async () => {
    await request(logged.url)
      .post('/notifications/api/mark-read/')
      .set('Content-Type', 'application/json')
      .set('X-Request-Id', 'malformed')
      // Validly signed: without such a token the body is never read, and the answer is 401.
      .set(bearer(signToken(1)))
      .send('{"ids": [')
      .expect(400);
    expect(logged.requests('malformed')).toMatchObject([{ res: { statusCode: 400 } }]);
  });

  it('keeps probes and scrapes below info unless they fail', async () => {
    await request(logged.url).get('/metrics').set('X-Request-Id', 'scrape').expect(200);
    await request(logged.url).get('/health').set('X-Request-Id', 'probe').expect(200);
    expect(logged.requests('scrape')).toEqual([]);
    expect(logged.requests('probe')).toEqual([]);
  });
});

import request from 'supertest';
import { startApp, TestApp } from './support/app';
import { createUser } from './support/fixtures';
import { refusal } from './support/socket-client';

const LIMIT = 3;

/** An anonymous API request, as relayed with this X-Forwarded-For (none when undefined). */
function anonymous(app: TestApp, forwardedFor?: string) {
  const call = request(app.url).get('/notifications/api/list/');
  return forwardedFor === undefined ? call : call.set('X-Forwarded-For', forwardedFor);
}

/** Why an anonymous handshake, relayed with this X-Forwarded-For, was refused. */
function anonymousHandshake(app: TestApp, forwardedFor: string): Promise<string> {
  return refusal(app.url, undefined, { extraHeaders: { 'X-Forwarded-For': forwardedFor } });
}

/** Statuses of `count` anonymous requests, each relayed with `forwardedFor(index)`. */
async function statuses(
  app: TestApp,
  count: number,
  forwardedFor: (index: number) => string | undefined,
): Promise<number[]> {
  const result: number[] = [];
  for (let index = 0; index < count; index += 1) {
    result.push((await anonymous(app, forwardedFor(index))).status);
  }
  return result;
}

// Every request here comes from 127.0.0.1; X-Forwarded-For plays the proxy in front (compose's
// nginx appends the address it saw to whatever the client sent).
describe('TRUST_PROXY and the per-address rate limit', () => {
  describe('unset (the default)', () => {
    let app: TestApp;
    beforeAll(async () => {
      app = await startApp({ HTTP_RATE_LIMIT_PER_MINUTE: String(LIMIT) });
    });
    afterAll(() => app?.close());

    it('ignores X-Forwarded-For: a client cannot buy a fresh budget by making one up', async () => {
      expect(await statuses(app, LIMIT + 1, (index) => `203.0.113.${index + 1}`)).toEqual([
        401, 401, 401, 429,
      ]);
      expect((await anonymous(app)).status).toBe(429);
      // Handshakes share that budget, and a made-up address does not escape it either.
      expect(await anonymousHandshake(app, '203.0.113.50')).toMatch(/too many requests/);
    });
  });

  describe('one hop (compose: nginx in front)', () => {
    let app: TestApp;
    beforeAll(async () => {
      app = await startApp({ HTTP_RATE_LIMIT_PER_MINUTE: String(LIMIT), TRUST_PROXY: '1' });
    });
    afterAll(() => app?.close());

    it('limits each client address the proxy saw, whatever the client claimed before it', async () => {
      // The same client behind the proxy, prepending a different made-up address each time.
      expect(
        await statuses(app, LIMIT + 1, (index) => `198.51.100.${index + 1}, 203.0.113.1`),
      ).toEqual([401, 401, 401, 429]);
      // Another client has a budget of its own, and so does the proxy's own address.
      expect(await statuses(app, LIMIT, () => '203.0.113.2')).toEqual([401, 401, 401]);
      expect((await anonymous(app)).status).toBe(401);
    });

    it('counts a handshake against the address the proxy saw, as it counts HTTP', async () => {
      expect(await statuses(app, LIMIT, () => '203.0.113.7')).toEqual([401, 401, 401]);
      // That client's budget is spent: its handshake is refused for it, by HTTP's rule...
      expect(await anonymousHandshake(app, '203.0.113.7')).toMatch(/too many requests/);
      // ...while another client behind the same proxy is only told its token is missing.
      expect(await anonymousHandshake(app, '203.0.113.8')).toBe('unauthorized');
    });
  });

  describe('a list of proxy addresses', () => {
    let app: TestApp;
    beforeAll(async () => {
      app = await startApp({
        HTTP_RATE_LIMIT_PER_MINUTE: String(LIMIT),
        TRUST_PROXY: '10.0.0.0/8',
      });
    });
    afterAll(() => app?.close());

    it('believes X-Forwarded-For only from those addresses', async () => {
      // 127.0.0.1 is not in the list: its forwarded addresses are not believed.
      expect(await statuses(app, LIMIT + 1, (index) => `203.0.113.${index + 1}`)).toEqual([
        401, 401, 401, 429,
      ]);
    });
  });

  describe('development routes for this machine only', () => {
    let app: TestApp;
    beforeAll(async () => {
      app = await startApp({ NODE_ENV: 'development', LOG_LEVEL: 'silent', TRUST_PROXY: '1' });
    });
    afterAll(() => app?.close());

    it('stay refused to relayed requests even when the proxy is trusted', async () => {
      const user = await createUser(app);
      await request(app.url).get('/demo/users').expect(200);
      for (const forwardedFor of ['127.0.0.1', '::1', '203.0.113.9']) {
        await request(app.url).get('/demo/users').set('X-Forwarded-For', forwardedFor).expect(403);
        await request(app.url)
          .post('/demo/token')
          .set('X-Forwarded-For', forwardedFor)
          .send({ user_id: user.id })
          .expect(403);
      }
    });
  });
});

import request from 'supertest';
import { startApp, TestApp } from './support/app';
import { createUser } from './support/fixtures';
import { closeSockets, openSocket, refusal } from './support/socket-client';
import { bearer, signToken } from './support/tokens';

jest.setTimeout(30_000);

const LIMIT = 5;
const REFUSED = `too many requests: at most ${LIMIT} per minute, slow down`;

// Handshakes spend the HTTP rate limit's budget: per user with a validly signed token, per
// client address without one, counted before the user is looked up.
describe('handshake rate limit', () => {
  let app: TestApp;

  beforeAll(async () => {
    app = await startApp({ HTTP_RATE_LIMIT_PER_MINUTE: String(LIMIT) });
  });
  afterEach(() => closeSockets());
  afterAll(() => app.close());

  it('refuses a user’s handshakes past the limit, sharing the budget with HTTP requests', async () => {
    const user = await createUser(app);
    const token = signToken(user);
    await request(app.url).get('/notifications/api/list/').set(bearer(token)).expect(200);
    for (let i = 1; i < LIMIT; i++) {
      const tab = await openSocket(app.url, { token });
      await tab.waitFor('unread_count');
      tab.close();
    }

    await expect(refusal(app.url, { token })).resolves.toBe(REFUSED);
    // The same budget: HTTP is refused too, and another user is not.
    await request(app.url).get('/notifications/api/list/').set(bearer(token)).expect(429);
    const other = await openSocket(app.url, { token: signToken(await createUser(app)) });
    await other.waitFor('unread_count');
  });

  it('counts handshakes without a valid token by address, before looking anyone up', async () => {
    const forged = signToken(1, { secret: 'not-the-secret' });
    for (let i = 0; i < LIMIT; i++) {
      await expect(refusal(app.url, { token: forged })).resolves.toBe('unauthorized');
    }
    await expect(refusal(app.url, { token: forged })).resolves.toBe(REFUSED);
    await expect(refusal(app.url, {})).resolves.toBe(REFUSED);
  });
});

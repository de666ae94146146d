import request from 'supertest';
import { startApp, TestApp } from './support/app';
import { createUser } from './support/fixtures';
import { closeSockets, openSocket, refusal } from './support/socket-client';
import { bearer, signToken } from './support/tokens';
import { Manager } from 'socket.io-client';
import {
  CONNECT_TIMEOUT_MS,
  WAITING_SESSIONS_PER_ADDRESS,
} from '../src/websocket/waiting-sessions';

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

// Transport sessions opened and never connected hold a file descriptor each: 20,000 from one
// address made every request fail. They are bounded per address, and closed after 10 s.
describe('transport sessions waiting for their connect', () => {
  let app: TestApp;

  beforeAll(async () => {
    app = await startApp();
  });
  afterEach(() => closeSockets());
  afterAll(() => app.close());

  const managers: Manager[] = [];
  afterEach(() => {
    for (const manager of managers.splice(0)) manager.engine?.close();
  });

  /**
   * Opens a WebSocket transport session and connects no namespace, as the flood did: resolves
   * with the manager once open, or with the error that refused it.
   */
  const openSession = (): Promise<Manager | Error> =>
    new Promise((resolve) => {
      const manager = new Manager(app.url, {
        path: '/ws/notificaciones/',
        transports: ['websocket'],
        reconnection: false,
        autoConnect: false,
      });
      managers.push(manager);
      manager.open((error) => resolve(error ?? manager));
    });

  it(`holds at most ${WAITING_SESSIONS_PER_ADDRESS} per address, and closes them after ${CONNECT_TIMEOUT_MS / 1000} s`, async () => {
    const token = signToken(await createUser(app));
    // Connected sockets are not waiting: they do not count.
    for (let i = 0; i < 3; i++)
      await (await openSocket(app.url, { token })).waitFor('unread_count');

    const opened: Array<Manager | Error> = [];
    for (let batch = 0; batch < WAITING_SESSIONS_PER_ADDRESS / 100; batch++) {
      opened.push(...(await Promise.all(Array.from({ length: 100 }, openSession))));
    }
    expect(opened.filter((session) => session instanceof Error)).toEqual([]);
    expect(await openSession()).toBeInstanceOf(Error);
    await expect(refusal(app.url, { token })).resolves.toEqual(expect.any(String));

    // None of them connects: the server closes them at the connect timeout.
    const closed = (opened as Manager[]).map(
      (manager) => new Promise<void>((resolve) => manager.once('close', () => resolve())),
    );
    const late = new Promise<string>((resolve) =>
      setTimeout(resolve, CONNECT_TIMEOUT_MS + 5_000, 'still open').unref(),
    );
    expect(await Promise.race([Promise.all(closed).then(() => 'closed'), late])).toBe('closed');
    expect(await openSession()).toBeInstanceOf(Manager);
    await (await openSocket(app.url, { token })).waitFor('unread_count');
  }, 60_000);
});

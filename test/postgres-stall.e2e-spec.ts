import request from 'supertest';
import { DataSource } from 'typeorm';
import { SHUTDOWN_DEADLINE_MS } from '../src/common/http-drain';
import { User } from '../src/users/user.entity';
import { openTestDatabase } from './support/database';
import { createUser } from './support/fixtures';
import { closeSockets, openSocket } from './support/socket-client';
import { bearer, signToken } from './support/tokens';
import { ServiceProcess } from './support/service-process';
import { databaseUrlThrough, TcpProxy } from './support/tcp-proxy';
import { waitFor } from './support/wait';

const UNAVAILABLE = {
  statusCode: 503,
  message: 'database unavailable, try again shortly',
  error: 'Service Unavailable',
};
/** The contract's bound on a request while the database does not answer. */
const CONTRACT_MS = 10_000;
/** How long the proxy loses every byte: the reported fault. */
const DROP_MS = 3000;

interface Answer {
  status: number;
  body: unknown;
  ms: number;
}

describe('PostgreSQL stalls (a TCP proxy that silently loses the bytes between the service and its database)', () => {
  let database: DataSource;
  let proxy: TcpProxy;
  let service: ServiceProcess;
  let user: User;

  /** Sends a GET now and resolves with its answer and how long it took (never rejects). */
  function get(path: string, token?: string): Promise<Answer> {
    const started = Date.now();
    const pending = request(service.url).get(path);
    if (token) pending.set(bearer(token));
    return pending.then(
      (response) => ({
        status: response.status,
        body: response.body as unknown,
        ms: Date.now() - started,
      }),
      (error: Error) => ({ status: 0, body: error.message, ms: Date.now() - started }),
    );
  }

  /** Opens a socket now; resolves with `connected` or the `connect_error` message, and how long it took. */
  function handshake(token: string): Promise<{ outcome: string; ms: number }> {
    const started = Date.now();
    return openSocket(service.url, { token }, { timeoutMs: 3 * CONTRACT_MS }).then(
      () => ({ outcome: 'connected', ms: Date.now() - started }),
      (error: Error) => ({ outcome: error.message, ms: Date.now() - started }),
    );
  }

  /** Waits until the proxy has lost some bytes beyond `before`: a query is on the wire, stuck. */
  async function stuck(before: number): Promise<void> {
    await waitFor('a query to be lost on the wire', () => proxy.droppedBytes > before, {
      timeoutMs: 5000,
      intervalMs: 10,
    });
  }

  beforeAll(async () => {
    database = await openTestDatabase();
    proxy = await TcpProxy.toTestDatabase();
    user = await createUser(database);
    service = await ServiceProcess.start({
      DATABASE_URL: databaseUrlThrough(proxy),
      JWT_SECRET: process.env.JWT_SECRET,
    });
  });

  afterEach(() => {
    closeSockets();
    proxy.restore();
  });

  afterAll(async () => {
    await ServiceProcess.disposeAll();
    await proxy?.close();
    await database?.destroy();
  });

  it('answers requests and handshakes within 10 s while replies are lost, 503 where one was, /health not 200, then recovers by itself', async () => {
    const token = signToken(user);
    expect((await get('/notifications/api/list/', token)).status).toBe(200);
    expect((await get('/health')).status).toBe(200);

    // A handshake first: its auth lookup is the one lost on the wire. Requests, another
    // handshake and /health then queue behind it, as every request did behind the stuck batch.
    proxy.drop(DROP_MS);
    let before = proxy.droppedBytes;
    const lostHandshake = handshake(token);
    await stuck(before);
    const queued = [
      get('/notifications/api/list/', token),
      get('/notifications/api/list/?limit=1', token),
      get('/notifications/api/list/?unread=true', token),
    ];
    const queuedHandshake = handshake(token);
    const health = await get('/health');
    expect(health.status).toBe(503);
    expect(health.body).toMatchObject({ details: { database: { status: 'down' } } });
    expect(health.ms).toBeLessThan(5000);

    const lost = await lostHandshake;
    expect(lost.outcome).toBe('service unavailable, try again shortly');
    expect(lost.ms).toBeLessThan(CONTRACT_MS);
    // Queued behind the lost reply: answered within the bound too, 503 or (once the drop has
    // ended and the stuck connection is gone) served.
    for (const answer of await Promise.all(queued)) {
      expect(answer.ms).toBeLessThan(CONTRACT_MS);
      if (answer.status !== 200) expect(answer).toMatchObject({ status: 503, body: UNAVAILABLE });
    }
    const second = await queuedHandshake;
    expect(second.ms).toBeLessThan(CONTRACT_MS);
    expect(['connected', 'service unavailable, try again shortly']).toContain(second.outcome);
    closeSockets();

    // Now an HTTP request first: its lookup is lost, and it answers 503 in Nest's shape.
    proxy.drop(DROP_MS);
    before = proxy.droppedBytes;
    const lostRequest = get('/notifications/api/list/?limit=1', token);
    await stuck(before);
    const alsoStuck = await get('/health');
    expect(alsoStuck.status).toBe(503);
    const answer = await lostRequest;
    expect(answer).toMatchObject({ status: 503, body: UNAVAILABLE });
    expect(answer.ms).toBeLessThan(CONTRACT_MS);

    // The drop is over: the same process serves again, without a restart.
    await waitFor(
      'the list to answer 200 again',
      async () => (await get('/notifications/api/list/', token)).status === 200,
      { timeoutMs: CONTRACT_MS, intervalMs: 100 },
    );
    const after = await Promise.all([
      get('/notifications/api/list/', token),
      get('/notifications/api/list/?limit=1', token),
      get('/health'),
    ]);
    expect(after.map((each) => each.status)).toEqual([200, 200, 200]);
    expect((await handshake(token)).outcome).toBe('connected');
    service.assertAlive();
  }, 60000);

  it('answers 503 within 10 s when the database answers every statement, but slowly', async () => {
    const token = signToken(user);
    expect((await get('/notifications/api/list/', token)).status).toBe(200);
    // Under the 6 s that ends a connection, but two in a row (the auth lookup, then the
    // update) take longer than the contract allows a request.
    proxy.delayReplies(5200);
    let answer: Answer;
    try {
      const started = Date.now();
      answer = await request(service.url)
        .post('/notifications/api/mark-read/')
        .set(bearer(token))
        .send({ ids: [] })
        .then((response) => ({
          status: response.status,
          body: response.body as unknown,
          ms: Date.now() - started,
        }));
    } finally {
      proxy.delayReplies(0);
    }
    expect(answer.ms).toBeLessThan(CONTRACT_MS);
    expect(answer).toMatchObject({ status: 503, body: UNAVAILABLE });
    await waitFor(
      'the list to answer 200 again',
      async () => (await get('/notifications/api/list/', token)).status === 200,
      { timeoutMs: CONTRACT_MS, intervalMs: 100 },
    );
    service.assertAlive();
  }, 60000);

  it('exits within its grace period on SIGTERM while a query is stuck', async () => {
    const token = signToken(user);
    // Several at once, so the pool also holds idle connections when the bytes stop: closing
    // those waits for a database that never hears of it.
    const warm = await Promise.all(
      Array.from({ length: 6 }, () => get('/notifications/api/list/?limit=1', token)),
    );
    expect(warm.map((each) => each.status)).toEqual(Array(6).fill(200));

    // Lost for good: the database never answers again during the shutdown.
    proxy.drop();
    const before = proxy.droppedBytes;
    const inFlight = get('/notifications/api/list/?limit=1', token);
    await stuck(before);
    const signalled = Date.now();
    const exit = await service.stop('SIGTERM', SHUTDOWN_DEADLINE_MS + 5000);
    const tookMs = Date.now() - signalled;

    // The drain waited for the request in flight, which got its 503 within the bound.
    const answer = await inFlight;
    expect(answer).toMatchObject({ status: 503, body: UNAVAILABLE });
    expect(answer.ms).toBeLessThan(CONTRACT_MS);
    // Compose's stop_grace_period is 30 s: the process ended by itself, well before a SIGKILL,
    // and when it took the hard deadline to, it said why.
    expect(tookMs).toBeLessThan(SHUTDOWN_DEADLINE_MS + 2000);
    if (exit.code === 1)
      expect(service.output()).toMatch(/Shutdown not finished 20 s after SIGTERM/);
    else expect(exit).toEqual({ code: null, signal: 'SIGTERM' });
  }, 60000);
});

import { randomUUID } from 'node:crypto';
import request from 'supertest';
import { DataSource } from 'typeorm';
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

describe('PostgreSQL faults (a TCP proxy between the service and its database, cut and restored)', () => {
  let database: DataSource;
  let proxy: TcpProxy;
  let service: ServiceProcess;
  let user: User;
  let staff: User;

  beforeAll(async () => {
    database = await openTestDatabase();
    proxy = await TcpProxy.toTestDatabase();
    user = await createUser(database);
    staff = await createUser(database, { staff: true });
  });

  afterEach(() => {
    closeSockets();
  });

  afterAll(async () => {
    await ServiceProcess.disposeAll();
    await proxy?.close();
    await database?.destroy();
  });

  it('starts while the database is unreachable: retries with backoff, logs each attempt, then serves', async () => {
    proxy.cut();
    service = await ServiceProcess.start(
      { DATABASE_URL: databaseUrlThrough(proxy), JWT_SECRET: process.env.JWT_SECRET },
      { waitReady: false },
    );
    await service.waitForOutput(/Database unreachable \(attempt 2 of \d+\).*retrying in 1 s/);
    expect(service.output()).toMatch(
      /Database unreachable \(attempt 1 of \d+\).*retrying in 0.5 s/,
    );
    service.assertAlive();

    proxy.restore();
    await service.ready(30000);
    await service.waitForOutput(/Database reachable after \d+ attempts/);
    expect((await request(service.url).get('/health')).status).toBe(200);
  }, 60000);

  it('answers 503 in Nest shape while the database is cut, keeps sockets up, and recovers by itself', async () => {
    const token = signToken(user);
    const socket = await openSocket(service.url, { token });
    await request(service.url).get('/notifications/api/list/').set(bearer(token)).expect(200);

    proxy.cut();
    const list = await request(service.url)
      .get('/notifications/api/list/')
      .set(bearer(token))
      .set('X-Request-Id', 'cut-list');
    expect({ status: list.status, body: list.body }).toEqual({ status: 503, body: UNAVAILABLE });
    expect(list.headers['retry-after']).toBe('5');
    // The cause is logged on a line of its own, with the id of the request it failed.
    await service.waitForOutput(/"reqId":"cut-list".*"msg":"GET \/notifications\/api\/list\/ 503"/);
    const logged = service
      .output()
      .split('\n')
      .filter((line) => line.includes('"reqId":"cut-list"'))
      .map((line) => JSON.parse(line) as { level: string; msg: string });
    expect(logged).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          level: 'warn',
          msg: expect.stringMatching(/^database unavailable: /),
        }),
        expect.objectContaining({ level: 'error', msg: 'GET /notifications/api/list/ 503' }),
      ]),
    );
    const markRead = await request(service.url)
      .post('/notifications/api/mark-read/')
      .set(bearer(token))
      .send({ ids: [] });
    expect({ status: markRead.status, body: markRead.body }).toEqual({
      status: 503,
      body: UNAVAILABLE,
    });
    const send = await request(service.url)
      .post('/notifications/api/send/')
      .set(bearer(signToken(staff)))
      .send({ usuarios: [user.id], mensaje: 'lost?' });
    expect({ status: send.status, body: send.body }).toEqual({ status: 503, body: UNAVAILABLE });
    const health = await request(service.url).get('/health');
    expect(health.status).toBe(503);
    expect(health.body.details.database.status).toBe('down');

    // The socket stays connected, and a socket event fails softly, with an ack.
    const ack = await socket.socket.timeout(5000).emitWithAck('mark_read', { ids: [] });
    expect(ack).toEqual({ error: expect.any(String) });
    expect(socket.socket.connected).toBe(true);
    // A new socket is told to come back later, not that its token is bad.
    await expect(openSocket(service.url, { token })).rejects.toThrow(/unavailable/);
    service.assertAlive();

    proxy.restore();
    await waitFor(
      'the list to answer 200 again',
      async () =>
        (await request(service.url).get('/notifications/api/list/').set(bearer(token))).status ===
        200,
      { timeoutMs: 10000, intervalMs: 100 },
    );
    expect((await request(service.url).get('/health')).status).toBe(200);
    // Same socket, never reconnected (reconnection is off): live delivery still reaches it.
    const mensaje = `after the outage ${randomUUID()}`;
    await request(service.url)
      .post('/notifications/api/send/')
      .set(bearer(signToken(staff)))
      .send({ usuarios: [user.id], mensaje })
      .expect(201);
    await socket.waitForMessage(mensaje);
    expect(socket.socket.connected).toBe(true);
    service.assertAlive();
  }, 30000);
});

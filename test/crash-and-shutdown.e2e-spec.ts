import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { io } from 'socket.io-client';
import request from 'supertest';
import { DataSource } from 'typeorm';
import type { NotificacionMensajeEvent } from '../src/notifications/events';
import { User } from '../src/users/user.entity';
import { startApp, TestApp } from './support/app';
import { openTestDatabase } from './support/database';
import { createUser } from './support/fixtures';
import { ClientSocket, closeSockets, openSocket } from './support/socket-client';
import { bearer, signToken } from './support/tokens';
import { ServiceProcess } from './support/service-process';
import { databaseUrlThrough, TcpProxy } from './support/tcp-proxy';
import { waitFor } from './support/wait';
import { isAlive } from './support/service-process';
import { redisAvailable, useRedis } from './support/redis-server';
import { SOCKET_PATH } from '../src/websocket/socket-path';

async function refusesConnections(url: string): Promise<boolean> {
  try {
    await (await fetch(`${url}/health`)).arrayBuffer();
    return false;
  } catch {
    return true;
  }
}

const redis = useRedis();

describe('crashes and shutdowns of a service process', () => {
  let database: DataSource;
  let staff: User;
  const services: ServiceProcess[] = [];

  async function start(env: Record<string, string | undefined>, options = {}) {
    const service = await ServiceProcess.start(
      { JWT_SECRET: process.env.JWT_SECRET, ...env },
      options,
    );
    services.push(service);
    return service;
  }

  function send(url: string, user: User, mensaje: string) {
    return request(url)
      .post('/notifications/api/send/')
      .set(bearer(signToken(staff)))
      .send({ usuarios: [user.id], mensaje });
  }

  beforeAll(async () => {
    database = await openTestDatabase();
    staff = await createUser(database, { staff: true });
  }, 30000);

  afterEach(async () => {
    closeSockets();
    await Promise.all(services.splice(0).map((service) => service.dispose()));
  });

  afterAll(async () => {
    await ServiceProcess.disposeAll();
    await database?.destroy();
  });

  it('loses nothing when killed with SIGKILL right after answering 201', async () => {
    const env = { DATABASE_URL: process.env.DATABASE_URL };
    const user = await createUser(database);
    const first = await start(env);
    const seen = await openSocket(first.url, { token: signToken(user) });
    const before = await send(first.url, user, 'before the crash').expect(201);
    const lastSeen = (await seen.waitForMessage('before the crash')).notificacion.id;
    expect(lastSeen).toBe(before.body.ids[0]);

    const answered = await send(first.url, user, 'answered, then killed').expect(201);
    expect(await first.stop('SIGKILL')).toEqual({ code: null, signal: 'SIGKILL' });
    const [id] = answered.body.ids as number[];

    const second = await start(env);
    const list = await request(second.url)
      .get('/notifications/api/list/')
      .set(bearer(signToken(user)))
      .expect(200);
    expect(list.body.notifications.map((n: { id: number }) => n.id)).toContain(id);
    const caughtUp = await openSocket(second.url, { token: signToken(user), since: lastSeen });
    expect((await caughtUp.waitForMessage('answered, then killed')).notificacion.id).toBe(id);
  }, 60000);

  describe('SIGTERM', () => {
    let databaseProxy: TcpProxy;
    let balancer: TcpProxy;
    let other: TestApp;
    let client: ClientSocket | undefined;

    beforeAll(async () => {
      databaseProxy = await TcpProxy.toTestDatabase();
      // Two instances on one database: one of them pushes for both, through their shared Redis.
      other = await startApp({ REDIS_URL: redis.url }, { lead: 'any' });
    });

    afterAll(async () => {
      client?.close();
      await balancer?.close();
      await databaseProxy?.close();
      await other?.close();
    });

    // Two instances on one database reach each other's sockets only through Redis.
    (redisAvailable ? it : it.skip)(
      'drains: stops accepting, finishes the request in flight, and sends sockets elsewhere',
      async () => {
        const user = await createUser(database);
        const service = await start({
          DATABASE_URL: databaseUrlThrough(databaseProxy),
          REDIS_URL: redis.url,
        });
        // A load balancer in front, so the client can be sent to the other instance.
        balancer = await TcpProxy.start({ host: '127.0.0.1', port: service.port });

        // A client as a browser would run it: reconnects by itself, telling the server what it saw.
        const received: NotificacionMensajeEvent[] = [];
        const disconnects: string[] = [];
        let lastSeen = 0;
        client = io(`http://127.0.0.1:${balancer.port}`, {
          path: SOCKET_PATH,
          auth: (callback) => callback({ token: signToken(user), since: lastSeen }),
          transports: ['websocket'],
          reconnectionDelay: 100,
          reconnectionDelayMax: 300,
        });
        client.on('notificacion_mensaje', (event) => {
          received.push(event);
          lastSeen = Math.max(lastSeen, event.notificacion.id);
        });
        client.on('disconnect', (reason) => disconnects.push(reason));
        let connects = 0;
        client.on('connect', () => (connects += 1));
        await waitFor('the client to connect', () => client!.connected);
        await send(service.url, user, 'seen live').expect(201);
        await waitFor('the live notification', () => received.length === 1);

        // A request in flight: the database stalls, so it is still running when SIGTERM comes.
        databaseProxy.hold();
        const inFlight = send(service.url, user, 'in flight at SIGTERM').then(
          (response) => response,
        );
        await waitFor('the request to reach the database', () => databaseProxy.heldBytes > 0);
        const exited = service.stop('SIGTERM');

        await waitFor('the service to stop accepting connections', () =>
          refusesConnections(service.url),
        );
        // The load balancer notices and sends new connections to the other instance.
        balancer.retarget({ host: '127.0.0.1', port: Number(new URL(other.url).port) });

        databaseProxy.release();
        const response = await inFlight;
        expect(response.status).toBe(201);
        const [id] = response.body.ids as number[];
        // Closed at the transport, not "io server disconnect": socket.io clients reconnect by
        // themselves only after the former.
        await waitFor('the socket to be told', () => disconnects.length > 0);
        expect(disconnects).toEqual(['transport close']);
        const exit = await exited;
        expect(exit.code === 0 || exit.signal === 'SIGTERM').toBe(true);

        // Reconnected elsewhere by itself, with nothing missed (live before the close, or caught
        // up through `since` after), and live again there.
        await waitFor('the reconnection to the other instance', () => connects === 2, {
          timeoutMs: 10000,
        });
        // Pushed by whichever instance leads, so it may come with the catch-up after `connect`.
        await waitFor('the in-flight notification', () =>
          received.some((event) => event.notificacion.id === id),
        );
        const again = await send(other.url, user, 'on the other instance').expect(201);
        await waitFor('live delivery on the other instance', () =>
          received.some((event) => event.notificacion.id === again.body.ids[0]),
        );
        expect(service.output()).not.toMatch(/\b(ERROR|error)\b.*(pool|terminated|destroyed)/);
      },
      60000,
    );

    it('stops the embedded PostgreSQL it started', async () => {
      const service = await start({ DATABASE_URL: undefined }, { readyTimeoutMs: 60000 });
      const pidFile = join(service.cwd, '.data', 'postgres', 'postmaster.pid');
      const postmaster = Number(readFileSync(pidFile, 'utf8').split('\n')[0]);
      expect(isAlive(postmaster)).toBe(true);

      const exit = await service.stop('SIGTERM');
      expect(exit.code === 0 || exit.signal === 'SIGTERM').toBe(true);
      expect(existsSync(pidFile)).toBe(false);
      await waitFor('the postmaster to be gone', () => !isAlive(postmaster));
    }, 60000);
  });
});

import { existsSync } from 'node:fs';
import { connect, Socket } from 'node:net';
import { join } from 'node:path';
import { io } from 'socket.io-client';
import request from 'supertest';
import { DataSource } from 'typeorm';
import { withDatabase } from '../bench/lib/database-url';
import { dataSourceOptions } from '../src/database/data-source';
import { User } from '../src/users/user.entity';
import { SOCKET_PATH } from '../src/websocket/socket-path';
import { createUser } from './support/fixtures';
import { ServiceProcess } from './support/service-process';
import {
  ClientSocket,
  closeSockets,
  connectSocket,
  disconnection,
  markReadSocket,
  openSocket,
  RecordedSocket,
  track,
} from './support/socket-client';
import { bearer, signToken } from './support/tokens';
import { waitFor } from './support/wait';
import { isAlive } from './support/service-process';

/** The worker holding a socket: its Engine.IO session id starts with the worker's number. */
function workerOf(socket: ClientSocket): number {
  return parseInt(socket.io.engine.id.split('-')[0], 36);
}

/**
 * One primary and two workers for the whole file, on the embedded PostgreSQL the primary
 * starts (DATABASE_URL unset, as in development) and the workers share; no Redis, so emits
 * cross workers through the primary (the cluster adapter). Tests run in order: the last one
 * stops it.
 */
describe('WORKERS=2: two worker processes behind one port', () => {
  let service: ServiceProcess;
  let database: DataSource;
  let staff: User;

  /** Worker number → pid, from the primary's "Worker N (pid P) ready" lines. */
  function workerPids(): Map<number, number> {
    const pids = new Map<number, number>();
    for (const [, id, pid] of service.output().matchAll(/Worker (\d+) \(pid (\d+)\) ready/g)) {
      pids.set(Number(id), Number(pid));
    }
    return pids;
  }

  async function send(user: User, mensaje: string): Promise<number> {
    const response = await request(service.url)
      .post('/notifications/api/send/')
      .set(bearer(signToken(staff)))
      .send({ usuarios: [user.id], mensaje })
      .expect(201);
    return (response.body as { ids: number[] }).ids[0];
  }

  /** Opens sockets for `user` until one lands on each of `workers`; closes the others. */
  async function socketsOn(user: User, workers: number[]): Promise<Map<number, RecordedSocket>> {
    const found = new Map<number, RecordedSocket>();
    for (let attempt = 0; attempt < 10 && found.size < workers.length; attempt += 1) {
      const socket = await openSocket(service.url, { token: signToken(user) });
      const worker = workerOf(socket.socket);
      if (workers.includes(worker) && !found.has(worker)) found.set(worker, socket);
      else socket.socket.close();
    }
    expect([...found.keys()].sort()).toEqual([...workers].sort());
    return found;
  }

  beforeAll(async () => {
    service = await ServiceProcess.start(
      { WORKERS: '2', DB_POOL_MAX: '10', JWT_SECRET: process.env.JWT_SECRET },
      { readyTimeoutMs: 60000 },
    );
    // The primary says where the embedded PostgreSQL it started listens.
    const [, port] = /Embedded PostgreSQL listening on 127\.0\.0\.1:(\d+)/.exec(service.output())!;
    database = await new DataSource(
      dataSourceOptions(`postgres://postgres@127.0.0.1:${port}/notificaciones`, 2),
    ).initialize();
    staff = await createUser(database, { staff: true });
    await service.waitForOutput(/leading delivery/, 20000);
  }, 90000);

  afterEach(() => closeSockets());

  afterAll(async () => {
    if (database?.isInitialized) await database.destroy();
    await ServiceProcess.disposeAll();
  });

  it('starts the embedded PostgreSQL once, in the primary, and splits DB_POOL_MAX', () => {
    expect(service.output().match(/Embedded PostgreSQL listening/g)).toHaveLength(1);
    expect(service.output()).not.toMatch(/Joined the embedded PostgreSQL/);
    expect([...workerPids().keys()].sort()).toEqual([1, 2]);
    // 10 connections for two workers: 5 each, one of them the delivery leader's.
    expect(service.output()).toContain('each with 4 pooled PostgreSQL connections');
  });

  it('answers /metrics for every worker, whichever the scrape reaches', async () => {
    const user = await createUser(database);
    await socketsOn(user, [1, 2]);
    for (let scrape = 0; scrape < 2; scrape += 1) {
      const { text } = await request(service.url).get('/metrics').expect(200);
      // Two pools of 4, two sockets: summed over both workers.
      expect(text).toMatch(/^db_pool_max_connections 8$/m);
      expect(text).toMatch(/^notificaciones_connected_sockets 2$/m);
    }
  });

  it('delivers a send to the sockets on both workers, whichever leads', async () => {
    const user = await createUser(database);
    const sockets = await socketsOn(user, [1, 2]);
    const id = await send(user, 'to a socket on each worker');
    for (const socket of sockets.values()) {
      expect((await socket.waitForMessage('to a socket on each worker')).notificacion.id).toBe(id);
    }
  });

  it('keeps a long-polling-only client on the worker that holds its session', async () => {
    const user = await createUser(database);
    const socket = track(
      io(service.url, {
        path: SOCKET_PATH,
        auth: { token: signToken(user) },
        transports: ['polling'],
        reconnection: false,
        forceNew: true,
      }),
    );
    const received: string[] = [];
    socket.on('notificacion_mensaje', (event) => received.push(event.message));
    await waitFor('the polling client to connect', () => socket.connected);
    // Each poll and each packet sent is an HTTP request of its own, a new connection each:
    // handed out in turn, they would reach the other worker and fail with "Session ID unknown".
    for (const mensaje of ['first poll', 'second poll', 'third poll']) {
      await send(user, mensaje);
      await waitFor(`"${mensaje}" over long-polling`, () => received.includes(mensaje));
    }
    expect(await markReadSocket(socket, { ids: [] })).toEqual({ updated: 3, unread_count: 0 });
    expect(socket.io.engine.transport.name).toBe('polling');
    expect(socket.connected).toBe(true);
  });

  it('hands over every WebSocket whole: its first frame reaches the worker', async () => {
    // The client sends its CONNECT as soon as the worker answers the upgrade, while the primary
    // may still hold its own copy of the connection: a hundred in a row, each must connect.
    const user = await createUser(database);
    for (let i = 0; i < 100; i += 1) {
      const socket = await connectSocket(service.url, { token: signToken(user) });
      socket.close();
    }
  });

  it('replaces a worker killed with SIGKILL; its clients catch up on what was sent meanwhile', async () => {
    const user = await createUser(database);
    const token = signToken(user);
    const [victim, survivor] = [1, 2];
    const sockets = await socketsOn(user, [victim, survivor]);
    const seen = sockets.get(victim)!;
    const lastSeen = await send(user, 'before the kill');
    await seen.waitForMessage(lastSeen);

    const victimPid = workerPids().get(victim)!;
    process.kill(victimPid, 'SIGKILL');
    await disconnection(seen.socket);
    const meanwhile = [await send(user, 'meanwhile 1'), await send(user, 'meanwhile 2')];

    // The client reconnects (to whichever worker it is handed) with what it holds, and gets
    // what it missed: replayed, or live when no leader had read it yet (the victim may have
    // led); the socket on the other worker got them live.
    const back = await openSocket(service.url, { token, since: lastSeen });
    await back.waitFor('catch_up');
    for (const id of meanwhile) await back.waitForMessage(id, 10_000);
    // Replayed and pushed again when the leader read them during the catch-up: a duplicate.
    // Were the victim the leader, its successor publishes `lastSeen` again: not to this socket,
    // whose `since` says it holds it.
    expect([...new Set(back.ids())]).toEqual(meanwhile);
    for (const id of meanwhile) await sockets.get(survivor)!.waitForMessage(id);

    await service.waitForOutput(
      /Worker 1 \(pid \d+\) exited \(killed by SIGKILL\): starting another/,
    );
    await waitFor('a third worker', () => workerPids().get(3), { timeoutMs: 30000 });
    expect(isAlive(victimPid)).toBe(false);
    // The replacement serves: sockets are handed to it again, and get what is sent.
    const replaced = await socketsOn(user, [3]);
    const id = await send(user, 'after the replacement');
    expect((await replaced.get(3)!.waitForMessage('after the replacement')).notificacion.id).toBe(
      id,
    );
  }, 60000);

  it('ends at once the requests it relays to a worker that dies, and stays up', async () => {
    const { port } = new URL(service.url);
    const body = JSON.stringify({ usuarios: [staff.id], mensaje: 'never finished' });
    // Requests with a body stay on the primary, relayed to a worker: four of them, the body cut
    // short so that each waits in its worker, two per worker in turn.
    const relays = await Promise.all(
      [1, 2, 3, 4].map(
        () =>
          new Promise<Socket>((resolve, reject) => {
            const socket = connect(Number(port), '127.0.0.1', () => {
              socket.write(
                `POST /notifications/api/send/ HTTP/1.1\r\nHost: 127.0.0.1\r\n` +
                  `Authorization: Bearer ${signToken(staff)}\r\n` +
                  `Content-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n` +
                  body.slice(0, 10),
              );
              resolve(socket);
            });
            socket.on('error', () => undefined);
            socket.once('error', reject);
          }),
      ),
    );
    const closed = relays.map(
      (socket) => new Promise<boolean>((resolve) => socket.once('close', () => resolve(true))),
    );
    // Let the primary hand each one over before the kill.
    await new Promise((resolve) => setTimeout(resolve, 500));
    const [victim, pid] = [...workerPids()].filter(([, workerPid]) => isAlive(workerPid))[0];
    const replacement = Math.max(...workerPids().keys()) + 1;
    process.kill(pid, 'SIGKILL');

    // Those relayed to the dead worker end within seconds (they waited about 90 s for an empty
    // 408), and the primary stays up through it.
    const endedInTime = await Promise.all(
      closed.map((done) =>
        Promise.race([done, new Promise<boolean>((resolve) => setTimeout(resolve, 5000, false))]),
      ),
    );
    const ended = endedInTime.filter(Boolean).length;
    expect(ended).toBeGreaterThanOrEqual(1);
    expect(ended).toBeLessThanOrEqual(3);
    for (const socket of relays) socket.destroy();
    service.assertAlive();
    await request(service.url).get('/health').expect(200);
    await service.waitForOutput(new RegExp(`Worker ${victim} \\(pid ${pid}\\) exited`));
    // Its replacement is ready before the next test counts the workers.
    await waitFor('the replacement worker', () => workerPids().get(replacement), {
      timeoutMs: 30000,
    });
  }, 60000);

  it('drains every worker on SIGTERM to the primary, which exits 0', async () => {
    const user = await createUser(database);
    const socket = await openSocket(service.url, { token: signToken(user) });
    const pids = [...workerPids().values()].filter(isAlive);
    expect(pids).toHaveLength(2);
    const dataDir = join(service.cwd, '.data', 'postgres');
    // Its connections would be cut when the embedded PostgreSQL stops.
    await database.destroy();

    const closed = disconnection(socket.socket);
    expect(await service.stop('SIGTERM', 30000)).toEqual({ code: 0, signal: null });
    expect((await closed).reason).toBe('transport close');
    for (const pid of pids) expect(isAlive(pid)).toBe(false);
    expect(service.output().match(/stopped \(killed by SIGTERM\)/g)).toHaveLength(2);
    expect(service.output()).toContain('Embedded PostgreSQL stopped');
    expect(existsSync(join(dataDir, 'postmaster.pid'))).toBe(false);
  }, 40000);
});

describe('WORKERS=2 with a worker that cannot start', () => {
  afterAll(() => ServiceProcess.disposeAll());

  it('stops the whole service with exit code 1, as one process would, instead of retrying', async () => {
    const service = await ServiceProcess.start(
      {
        WORKERS: '2',
        JWT_SECRET: process.env.JWT_SECRET,
        // A database that does not exist: waiting will not fix it, so each worker fails at once.
        DATABASE_URL: withDatabase(process.env.DATABASE_URL!, 'notificaciones_missing'),
      },
      { waitReady: false },
    );
    expect(await service.exited).toEqual({ code: 1, signal: null });
    expect(service.output()).toMatch(
      /Worker \d+ exited during start-up \(exit code 1\): stopping \d workers/,
    );
    expect(service.output()).not.toMatch(/starting another/);
  }, 30000);
});

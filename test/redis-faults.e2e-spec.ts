import { randomUUID } from 'node:crypto';
import request from 'supertest';
import { DataSource } from 'typeorm';
import { User } from '../src/users/user.entity';
import { openTestDatabase } from './support/database';
import { createUser } from './support/fixtures';
import { closeSockets, openSocket, track } from './support/socket-client';
import { bearer, signToken } from './support/tokens';
import { outboxDrained } from './support/delivery';
import { ReconnectingClient } from './support/reconnecting-client';
import { RedisServer, redisServerAvailable } from './support/redis-server';
import { ServiceProcess } from './support/service-process';
import { settleWithin, waitFor } from './support/wait';

const available = redisServerAvailable();
const describeWithRedisServer = available ? describe : describe.skip;
if (!available) {
  process.stderr.write(
    'Redis fault tests skipped: no redis-server binary on the PATH to start, kill and restart\n',
  );
}

/** The contract: live delivery resumes within this long of Redis being back. */
const RESUME_WITHIN_MS = 8000;

describeWithRedisServer('Redis faults (a dedicated redis-server, killed and restarted)', () => {
  let redis: RedisServer;
  let database: DataSource;
  let a: ServiceProcess;
  let b: ServiceProcess;
  let staff: User;

  function expectAlive(): void {
    for (const service of [a, b]) {
      if (service && !service.isRunning) {
        throw new Error(`a service died:\n${service.output().slice(-3000)}`);
      }
    }
  }

  /** A failed request to a service that died says that it died, with its last output. */
  async function orDied<T>(call: Promise<T>): Promise<T> {
    try {
      return await call;
    } catch (error) {
      // A connection reset by a dying process comes a moment before its exit event.
      await settleWithin(Promise.any([a.exited, b.exited]), 1000);
      expectAlive();
      throw error;
    }
  }

  function send(service: ServiceProcess, user: User, mensaje: string) {
    return orDied(
      request(service.url)
        .post('/notifications/api/send/')
        .set(bearer(signToken(staff)))
        .send({ usuarios: [user.id], mensaje })
        .expect(201)
        .then((response) => response),
    );
  }

  async function health(service: ServiceProcess) {
    const response = await orDied(
      request(service.url)
        .get('/health')
        .then((r) => r),
    );
    return { status: response.status, redis: response.body.details?.redis?.status as string };
  }

  /**
   * Sends a fresh notification on `from` every 200 ms until one reaches `socket` (on the other
   * instance), and returns when that was; fails once `deadline` passes.
   */
  async function liveDeliveryResumes(
    from: ServiceProcess,
    user: User,
    socket: { messages: Array<{ message: string }> },
    deadline: number,
  ): Promise<number> {
    const probes = new Set<string>();
    let lastSent = 0;
    return waitFor(
      'live cross-instance delivery to resume',
      async () => {
        const arrived = socket.messages.find((event) => probes.has(event.message));
        if (arrived) return Date.now();
        if (Date.now() - lastSent >= 200) {
          lastSent = Date.now();
          const mensaje = `probe ${randomUUID()}`;
          probes.add(mensaje);
          await send(from, user, mensaje);
        }
        return undefined;
      },
      { timeoutMs: Math.max(0, deadline - Date.now()), intervalMs: 20 },
    );
  }

  beforeAll(async () => {
    redis = await RedisServer.onFreePort();
    database = await openTestDatabase();
    staff = await createUser(database, { staff: true });
  }, 30000);

  afterEach(() => {
    closeSockets();
  });

  afterAll(async () => {
    await ServiceProcess.disposeAll();
    await redis?.kill();
    await database?.destroy();
  });

  it('starts without Redis, says so on /health, stores and lists, and joins up once Redis comes', async () => {
    const env = {
      DATABASE_URL: process.env.DATABASE_URL,
      JWT_SECRET: process.env.JWT_SECRET,
      REDIS_URL: redis.url,
    };
    // A leads delivery (it starts first and says so), so what reaches B's sockets comes across
    // Redis: with B leading, its own sockets would get every emit without Redis at all.
    a = await ServiceProcess.start(env);
    await a.waitForOutput(/leading delivery/);
    b = await ServiceProcess.start(env);
    const user = await createUser(database);
    const onB = new ReconnectingClient(b.url, signToken(user));
    track(onB.socket);
    await onB.connected();

    expect(await health(a)).toEqual({ status: 503, redis: 'down' });
    const stored = await send(a, user, `stored without Redis ${randomUUID()}`);
    const [storedId] = stored.body.ids as number[];
    const list = await request(b.url)
      .get('/notifications/api/list/')
      .set(bearer(signToken(user)))
      .expect(200);
    expect(list.body.notifications.map((n: { id: number }) => n.id)).toContain(storedId);
    expectAlive();

    await redis.start();
    const back = Date.now();
    await waitFor('/health 200 on both instances', async () => {
      const [ha, hb] = await Promise.all([health(a), health(b)]);
      return ha.status === 200 && hb.status === 200;
    });
    await liveDeliveryResumes(a, user, onB, back + RESUME_WITHIN_MS);
    // B had the client reconnect, so it caught up with what A stored before Redis came.
    await waitFor('B to close its sockets at the transport', () =>
      onB.disconnects.includes('transport close'),
    );
    await waitFor('the catch-up', () => onB.has(storedId));
    expect(onB.disconnects).toEqual(['transport close']);
    expectAlive();
  }, 60000);

  it('survives Redis dying mid-run, keeps storing, and resumes live delivery within 8 s of its return', async () => {
    const user = await createUser(database);
    const onB = new ReconnectingClient(b.url, signToken(user));
    track(onB.socket);
    await onB.connected();
    const before = await send(a, user, `before the outage ${randomUUID()}`);
    await waitFor('live delivery across instances', () => onB.has(before.body.ids[0]));

    await redis.kill();
    await waitFor('/health 503 with Redis down', async () => (await health(a)).status === 503);
    expect(await health(a)).toEqual({ status: 503, redis: 'down' });
    const missed: number[] = [];
    for (let index = 0; index < 3; index += 1) {
      const response = await send(a, user, `during the outage ${index}`);
      missed.push(...(response.body.ids as number[]));
      // Each goes out (nowhere) before the next is stored: one read of two would count the
      // lower id late, and catch-up replays a late one after its watermark (the higher id).
      await outboxDrained(database);
    }
    // Stored and listed on the other instance while Redis is still down.
    const list = await request(b.url)
      .get('/notifications/api/list/')
      .set(bearer(signToken(user)))
      .expect(200);
    expect(list.body.notifications.map((n: { id: number }) => n.id)).toEqual(
      expect.arrayContaining(missed),
    );
    expectAlive();

    await redis.start();
    const back = Date.now();
    // Only B resubscribing brings its sockets A's emits again.
    await liveDeliveryResumes(a, user, onB, back + RESUME_WITHIN_MS);
    // The client, still connected through the outage, is made to reconnect, and catches up
    // with what A stored meanwhile, oldest first (one may also come live as it reconnects).
    await waitFor('B to close its sockets at the transport', () =>
      onB.disconnects.includes('transport close'),
    );
    await onB.connected(2);
    await waitFor('the catch-up', () => missed.every((id) => onB.has(id)));
    const caughtUp = onB.messages
      .map((event) => event.notificacion.id)
      .filter((id) => missed.includes(id));
    expect([...new Set(caughtUp)]).toEqual(missed);
    expect(onB.disconnects).toContain('transport close');

    // A client that connects afresh with the last id it saw gets the same.
    const fresh = await openSocket(b.url, { token: signToken(user), since: before.body.ids[0] });
    await waitFor('the catch-up of a new client', () =>
      missed.every((id) => fresh.ids().includes(id)),
    );
    expect(fresh.ids().slice(0, missed.length)).toEqual(missed);
    await waitFor('/health 200 again', async () => (await health(a)).status === 200);
    expectAlive();
    // A led throughout, so what B's sockets got came across Redis.
    expect(b.output()).not.toMatch(/leading delivery/);
  }, 30000);
});

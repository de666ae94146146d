import { DataSource } from 'typeorm';
import { User } from '../src/users/user.entity';
import { openTestDatabase } from './support/database';
import { createUser } from './support/fixtures';
import { closeSockets, openSocket, RecordedSocket } from './support/socket-client';
import { bearer, signToken } from './support/tokens';
import { ServiceProcess } from './support/service-process';
import { databaseUrlThrough, TcpProxy } from './support/tcp-proxy';
import { waitFor } from './support/wait';
import { redisAvailable, useRedis } from './support/redis-server';

jest.setTimeout(90_000);

const describeRedis = redisAvailable ? describe : describe.skip;

/** Two service processes on one database and one Redis; B reaches PostgreSQL through a proxy. */
const redis = useRedis();

describeRedis('delivery across instances, with real faults', () => {
  let database: DataSource;
  let proxy: TcpProxy;
  let staff: User;

  const env = (databaseUrl: string) => ({
    DATABASE_URL: databaseUrl,
    REDIS_URL: redis.url,
    JWT_SECRET: process.env.JWT_SECRET,
    HTTP_RATE_LIMIT_PER_MINUTE: '0',
  });

  /** Starts the leader first (it leads once it says so), then the other instance. */
  async function startPair(leaderBehindProxy: boolean) {
    const direct = process.env.DATABASE_URL!;
    const proxied = databaseUrlThrough(proxy);
    const first = await ServiceProcess.start(env(leaderBehindProxy ? proxied : direct));
    await first.waitForOutput(/leading delivery/);
    const second = await ServiceProcess.start(env(leaderBehindProxy ? direct : proxied));
    return leaderBehindProxy ? { a: second, b: first } : { a: first, b: second };
  }

  function send(service: ServiceProcess, user: User, mensaje: string): Promise<Response> {
    return fetch(`${service.url}/notifications/api/send/`, {
      method: 'POST',
      headers: { ...bearer(signToken(staff)), 'Content-Type': 'application/json' },
      body: JSON.stringify({ usuarios: [user.id], mensaje }),
    });
  }

  /** The id of the stored notification with this message, once it is committed. */
  function committed(mensaje: string): Promise<number> {
    return waitFor(`"${mensaje}" to commit`, async () => {
      const rows = await database.query<Array<{ id: string }>>(
        'SELECT id FROM notificaciones WHERE mensaje = $1',
        [mensaje],
      );
      return rows.length > 0 ? Number(rows[0].id) : undefined;
    });
  }

  beforeAll(async () => {
    database = await openTestDatabase();
    proxy = await TcpProxy.toTestDatabase();
    staff = await createUser(database, { staff: true });
  });

  afterEach(async () => {
    closeSockets();
    proxy.release();
    await ServiceProcess.disposeAll();
  });

  afterAll(async () => {
    await proxy?.close();
    await database?.destroy();
  });

  it('replays a notification that committed on a stalled instance after a later one went out', async () => {
    const { a, b } = await startPair(false);
    const user = await createUser(database);
    const token = signToken(user);
    const client = await openSocket(a.url, { token });

    // B stores a notification (the lower id) and hears nothing back: its reply is held.
    proxy.holdRepliesAfter('stored by B, reply held');
    const stalled = send(b, user, 'stored by B, reply held');
    const early = await committed('stored by B, reply held');
    // A stores and delivers a later one; the client holds it, then leaves.
    const response = await send(a, user, 'stored by A');
    const later = ((await response.json()) as { ids: number[] }).ids[0];
    expect(early).toBeLessThan(later);
    await client.waitForMessage(later);
    client.close();
    proxy.release();
    expect((await stalled).status).toBe(201);

    const back = await openSocket(a.url, { token, since: later });
    await back.waitFor('catch_up');
    const received = [...client.ids(), ...back.ids()];
    expect(received).toContain(early);
  });

  // A client may reconnect with the highest id it holds: had a live notification come before
  // the replay of older ones, a client dropping in between would skip those for good.
  it('sends a catching-up socket what goes out live only after its replay and catch_up', async () => {
    const { a, b } = await startPair(false);
    const user = await createUser(database);
    const token = signToken(user);
    const watcher = await openSocket(a.url, { token });
    const backlog: number[] = [];
    for (const mensaje of ['missed 1', 'missed 2', 'missed 3']) {
      const response = await send(a, user, mensaje);
      backlog.push(((await response.json()) as { ids: number[] }).ids[0]);
      await watcher.waitForMessage(mensaje);
    }

    // B's catch-up query is answered only once released: the socket is connected, in its room.
    proxy.holdRepliesAfter('entregas.catch-up');
    const catchingUp = await openSocket(b.url, { token, since: 0 });
    // Its query has run (its answer is what is held) before the next one is sent.
    await waitFor('B’s catch-up query to run', () => proxy.heldBytes > 0);
    const response = await send(a, user, 'live during the catch-up');
    const live = ((await response.json()) as { ids: number[] }).ids[0];
    await watcher.waitForMessage(live);
    // Redis has carried it to B by now (the watcher got it through the same publish).
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(catchingUp.eventNames().filter((name) => name !== 'unread_count')).toEqual([]);

    proxy.release();
    await catchingUp.waitForMessage(live);
    await catchingUp.waitFor('catch_up');
    const events = catchingUp
      .eventNames()
      .filter((name) => name === 'notificacion_mensaje' || name === 'catch_up');
    expect(events).toEqual([
      'notificacion_mensaje',
      'notificacion_mensaje',
      'notificacion_mensaje',
      'catch_up',
      'notificacion_mensaje',
    ]);
    expect(catchingUp.ids()).toEqual([...backlog, live]);
  });

  it('pushes a committed notification within 5 s when the instance that stored it is killed', async () => {
    // B leads and stores; its replies are held, so it cannot push before it dies.
    const { a, b } = await startPair(true);
    const user = await createUser(database);
    const client: RecordedSocket = await openSocket(a.url, { token: signToken(user) });
    proxy.holdRepliesAfter('stored by B, then B died');
    void send(b, user, 'stored by B, then B died').catch(() => undefined);
    const id = await committed('stored by B, then B died');
    expect(client.ids()).not.toContain(id);
    await b.stop('SIGKILL');
    await client.waitForMessage(id, 5000);
    await a.waitForOutput(/leading delivery/);
  });

  it('hands over within 5 s when the leader freezes while pushing a large fan-out', async () => {
    const { a, b } = await startPair(false);
    const user = await createUser(database);
    const client: RecordedSocket = await openSocket(b.url, { token: signToken(user) });
    const crowd = await database.query<Array<{ id: number }>>(
      `INSERT INTO users (username)
       SELECT 'crowd-' || $1 || '-' || g FROM generate_series(1, 1000) g RETURNING id`,
      [Date.now()],
    );
    // 1,000 notifications of 10,000 three-byte characters: about 30 MB for the leader to read.
    const sent = await fetch(`${a.url}/notifications/api/send/`, {
      method: 'POST',
      headers: { ...bearer(signToken(staff)), 'Content-Type': 'application/json' },
      body: JSON.stringify({ usuarios: crowd.map((row) => row.id), mensaje: '€'.repeat(10_000) }),
    });
    expect(sent.status).toBe(201);
    // Frozen mid-push (a long GC pause, a stopped VM): alive, holding its session, reading nothing.
    process.kill(a.pid, 'SIGSTOP');
    try {
      const response = await send(b, user, 'sent while the leader is frozen');
      expect(response.status).toBe(201);
      const id = await committed('sent while the leader is frozen');
      await client.waitForMessage(id, 5000);
      await b.waitForOutput(/leading delivery/);
    } finally {
      process.kill(a.pid, 'SIGCONT');
    }
  });
});

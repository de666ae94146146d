import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import { NotificationsService } from '../src/notifications/notifications.service';
import { User } from '../src/users/user.entity';
import { startApp, TestApp } from './support/app';
import { createUser } from './support/fixtures';
import { closeSockets, openSocket, RecordedSocket } from './support/socket-client';
import { bearer, signToken } from './support/tokens';
import { assertBuilt, CLI_JS } from './support/service-process';
import { redisAvailable, useRedis } from './support/redis-server';

const describeRedis = redisAvailable ? describe : describe.skip;
if (!redisAvailable) {
  process.stderr.write('multi-instance tests skipped: install redis-server or set REDIS_URL\n');
}

/** Runs the compiled CLI against the test database and `redisUrl`; resolves with its stdout. */
function cli(args: string[], redisUrl: string): Promise<string> {
  const cwd = mkdtempSync(join(tmpdir(), 'notificaciones-cli-'));
  const child = spawn(process.execPath, [CLI_JS, ...args], {
    cwd,
    env: {
      PATH: process.env.PATH,
      NODE_ENV: 'test',
      DATABASE_URL: process.env.DATABASE_URL,
      JWT_SECRET: process.env.JWT_SECRET,
      REDIS_URL: redisUrl,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), 20000);
    child.once('exit', (code) => {
      clearTimeout(timer);
      rmSync(cwd, { recursive: true, force: true });
      if (code === 0) resolve(stdout);
      else reject(new Error(`cli ${args[0]} exited with ${code}: ${stderr}`));
    });
  });
}

const redis = useRedis();

describeRedis('two instances sharing Redis', () => {
  let a: TestApp;
  let b: TestApp;
  let staff: User;

  /** Sockets of `user`: `perInstance` on A, then as many on B. */
  async function socketsOf(
    user: User,
    perInstance = 2,
  ): Promise<{ onA: RecordedSocket[]; onB: RecordedSocket[] }> {
    const token = signToken(user);
    const open = (app: TestApp) =>
      Promise.all(Array.from({ length: perInstance }, () => openSocket(app.url, { token })));
    const [onA, onB] = await Promise.all([open(a), open(b)]);
    return { onA, onB };
  }

  function send(app: TestApp, usuarios: number[], mensaje: string) {
    return request(app.url)
      .post('/notifications/api/send/')
      .set(bearer(signToken(staff)))
      .send({ usuarios, mensaje })
      .expect(201);
  }

  /**
   * Sends a last notification through `app` and waits for it on every socket: emits from one
   * publisher arrive in order, so once it is there, everything sent before it has arrived too.
   */
  async function barrier(app: TestApp, user: User, sockets: RecordedSocket[]): Promise<void> {
    const mensaje = `barrier ${randomUUID()}`;
    await send(app, [user.id], mensaje);
    await Promise.all(sockets.map((socket) => socket.waitForMessage(mensaje)));
  }

  beforeAll(async () => {
    [a, b] = await Promise.all([
      startApp({ REDIS_URL: redis.url }, { lead: 'any' }),
      startApp({ REDIS_URL: redis.url }, { lead: 'any' }),
    ]);
    staff = await createUser(a, { staff: true });
  });

  afterEach(() => {
    closeSockets();
  });

  afterAll(async () => {
    await Promise.all([a?.close(), b?.close()]);
  });

  it('delivers a notification sent on either instance to every socket of the user exactly once', async () => {
    const user = await createUser(a);
    const other = await createUser(a);
    const { onA, onB } = await socketsOf(user);
    const { onA: otherOnA, onB: otherOnB } = await socketsOf(other, 1);
    const all = [...onA, ...onB];

    const fromA = `from A ${randomUUID()}`;
    const fromB = `from B ${randomUUID()}`;
    await send(a, [user.id], fromA);
    await send(b, [user.id], fromB);
    await barrier(a, user, all);
    await barrier(b, user, all);

    for (const socket of all) {
      expect(socket.count(fromA)).toBe(1);
      expect(socket.count(fromB)).toBe(1);
    }
    // Another user's sockets, on either instance, hear nothing of it.
    await barrier(a, other, [...otherOnA, ...otherOnB]);
    for (const socket of [...otherOnA, ...otherOnB]) {
      expect(socket.count(fromA) + socket.count(fromB)).toBe(0);
    }
  });

  it('keeps unread_count in step on every socket of the user, whichever instance marks read', async () => {
    const user = await createUser(a);
    const { onA, onB } = await socketsOf(user);
    const all = [...onA, ...onB];
    const sent = await send(a, [user.id], `one ${randomUUID()}`);
    await send(b, [user.id], `two ${randomUUID()}`);
    await barrier(a, user, all);
    const [firstId] = sent.body.ids as number[];

    // By socket on A: every socket, on A and B, hears the new count (2 sent + barrier - 1).
    const ack = await onA[0].socket.timeout(5000).emitWithAck('mark_read', { ids: [firstId] });
    expect(ack).toEqual({ updated: 1, unread_count: 2 });
    await Promise.all(all.map((socket) => socket.waitForUnreadCount(2)));

    // By HTTP on B: all read.
    await request(b.url)
      .post('/notifications/api/mark-read/')
      .set(bearer(signToken(user)))
      .send({ ids: [] })
      .expect(200, { updated: 2, unread_count: 0 });
    await Promise.all(all.map((socket) => socket.waitForUnreadCount(0)));
  });

  it('delivers what the CLI `notify` stores (Redis emitter) to sockets on every instance', async () => {
    assertBuilt();
    const user = await createUser(a);
    const { onA, onB } = await socketsOf(user, 1);
    const mensaje = `from the CLI ${randomUUID()}`;
    const printed = JSON.parse(await cli(['notify', user.username, mensaje], redis.url));
    expect(printed).toMatchObject({ usuario: user.id, mensaje, leida: false });
    for (const socket of [...onA, ...onB]) {
      const event = await socket.waitForMessage(mensaje);
      expect(event.notificacion.id).toBe(printed.id);
    }
    await barrier(a, user, [...onA, ...onB]);
    for (const socket of [...onA, ...onB]) expect(socket.count(mensaje)).toBe(1);
  }, 30000);

  it('never delivers, on any instance, a notification whose transaction rolled back', async () => {
    const user = await createUser(a);
    const other = await createUser(a);
    const { onA, onB } = await socketsOf(user, 1);
    const { onA: otherOnA, onB: otherOnB } = await socketsOf(other, 1);
    const service = a.app.get(NotificationsService);
    const tag = randomUUID();

    // Transactions in flight together, every other one rolled back, through every entry point.
    const outcomes = await Promise.allSettled(
      Array.from({ length: 12 }, (_, index) =>
        a.dataSource.transaction(async (manager) => {
          const mensaje = `${index % 2 === 0 ? 'kept' : 'rolled back'} ${index} ${tag}`;
          if (index % 3 === 0) await service.notificarUsuario(user, mensaje, { manager });
          else await service.notificarUsuarios([user.id, other.id], mensaje, { manager });
          if (index % 2 === 1) throw new Error('roll back');
        }),
      ),
    );
    expect(outcomes.filter((outcome) => outcome.status === 'rejected')).toHaveLength(6);

    const everyone = [...onA, ...onB, ...otherOnA, ...otherOnB];
    await barrier(a, user, [...onA, ...onB]);
    await barrier(a, other, [...otherOnA, ...otherOnB]);
    for (const socket of everyone) {
      const received = socket.messages.map((event) => event.message).filter((m) => m.endsWith(tag));
      expect(received.filter((m) => m.startsWith('rolled back'))).toEqual([]);
    }
    for (const socket of [...onA, ...onB]) {
      for (let index = 0; index < 12; index += 2) {
        expect(socket.count(`kept ${index} ${tag}`)).toBe(1);
      }
    }
    const [{ count }] = await a.dataSource.query<Array<{ count: number }>>(
      `SELECT count(*)::int AS count FROM notificaciones WHERE mensaje LIKE 'rolled back %' || $1`,
      [tag],
    );
    expect(count).toBe(0);
  });
});

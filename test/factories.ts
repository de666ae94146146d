import { NestExpressApplication } from '@nestjs/platform-express';
import { Test } from '@nestjs/testing';
import jwt from 'jsonwebtoken';
import { randomUUID } from 'node:crypto';
import { io, Socket } from 'socket.io-client';
import { DataSource } from 'typeorm';
import { AppModule } from '../src/app.module';
import { configureApp } from '../src/app.setup';
import { parseConfig } from '../src/config/configuration';
import type { ClientToServerEvents, ServerToClientEvents } from '../src/notifications/events';
import { User } from '../src/users/user.entity';

export type ClientSocket = Socket<ServerToClientEvents, ClientToServerEvents>;

export interface TestApp {
  app: NestExpressApplication;
  /** e.g. http://127.0.0.1:41234 */
  url: string;
  dataSource: DataSource;
  close(): Promise<void>;
}

/**
 * Boots the real AppModule on a free port, configured exactly as `main.ts` does, against the
 * run's test database. `env` overrides the environment for this app only (e.g. REDIS_URL).
 */
export async function startApp(
  env: Record<string, string | undefined> = {},
  /** Providers to replace with a value, e.g. where the logs go. */
  overrides: Array<[token: string | symbol, value: unknown]> = [],
): Promise<TestApp> {
  const config = parseConfig({ ...process.env, PORT: '0', ...env });
  let builder = Test.createTestingModule({ imports: [AppModule.register(config)] });
  for (const [token, value] of overrides) builder = builder.overrideProvider(token).useValue(value);
  const moduleRef = await builder.compile();
  const app = moduleRef.createNestApplication<NestExpressApplication>({
    bodyParser: false,
    logger: ['error'],
  });
  configureApp(app);
  await app.listen(0, '127.0.0.1');
  const address = app.getHttpServer().address() as { port: number };
  return {
    app,
    url: `http://127.0.0.1:${address.port}`,
    dataSource: app.get(DataSource),
    close: () => app.close(),
  };
}

/** A new user with a unique username (active, not staff unless asked). */
export async function createUser(
  target: TestApp | DataSource,
  options: { staff?: boolean; active?: boolean; username?: string } = {},
): Promise<User> {
  const dataSource = target instanceof DataSource ? target : target.dataSource;
  const users = dataSource.getRepository(User);
  return users.save(
    users.create({
      username: options.username ?? `user-${randomUUID().slice(0, 12)}`,
      isStaff: options.staff ?? false,
      isActive: options.active ?? true,
    }),
  );
}

/** A token as a real issuer would sign it; every part can be bent to test rejection. */
export function signToken(
  sub: number | string | User,
  options: { secret?: string; expiresIn?: number; algorithm?: jwt.Algorithm; noExp?: boolean } = {},
): string {
  const subject = typeof sub === 'object' ? String(sub.id) : sub;
  const secret = options.secret ?? process.env.JWT_SECRET!;
  return jwt.sign({ sub: subject }, secret, {
    algorithm: options.algorithm ?? 'HS256',
    ...(options.noExp ? {} : { expiresIn: options.expiresIn ?? 3600 }),
  });
}

/** Bearer header for supertest/fetch. */
export function bearer(token: string): { Authorization: string } {
  return { Authorization: `Bearer ${token}` };
}

/**
 * A connected socket.io-client socket (websocket transport, no reconnection); rejects with the
 * server's `connect_error` message when the handshake is refused. `prepare` runs before the
 * handshake starts, so listeners it adds miss nothing that follows it.
 */
export function connectSocket(
  url: string,
  auth: Record<string, unknown> | undefined,
  options: {
    extraHeaders?: Record<string, string>;
    query?: Record<string, string>;
    timeoutMs?: number;
    prepare?: (socket: ClientSocket) => void;
  } = {},
): Promise<ClientSocket> {
  const socket: ClientSocket = io(url, {
    path: '/ws/notificaciones/',
    auth,
    query: options.query,
    transports: ['websocket'],
    reconnection: false,
    forceNew: true,
    autoConnect: false,
    extraHeaders: options.extraHeaders,
  });
  options.prepare?.(socket);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      socket.close();
      reject(new Error('socket did not connect in time'));
    }, options.timeoutMs ?? 5000);
    socket.once('connect', () => {
      clearTimeout(timer);
      resolve(socket);
    });
    socket.once('connect_error', (error) => {
      clearTimeout(timer);
      socket.close();
      reject(error);
    });
    socket.connect();
  });
}

/** The next `event` on the socket, or a rejection after `timeoutMs`. */
export function nextEvent<E extends keyof ServerToClientEvents>(
  socket: ClientSocket,
  event: E,
  timeoutMs = 5000,
): Promise<Parameters<ServerToClientEvents[E]>[0]> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      socket.off(event, listener as never);
      reject(new Error(`no ${event} within ${timeoutMs} ms`));
    }, timeoutMs);
    const listener = (payload: Parameters<ServerToClientEvents[E]>[0]) => {
      clearTimeout(timer);
      resolve(payload);
    };
    socket.once(event, listener as never);
  });
}

/**
 * Inserts notifications for `user` straight into the table, in one statement (so rows without
 * an explicit `fecha` share the same `now()` and only their ids order them). `rows` may be a
 * count. Returns the new ids in the order of `rows`.
 */
export async function insertNotifications(
  target: TestApp | DataSource,
  user: User | number,
  rows: number | Array<{ mensaje?: string; leida?: boolean; fecha?: string }>,
): Promise<number[]> {
  const dataSource = target instanceof DataSource ? target : target.dataSource;
  const list: Array<{ mensaje?: string; leida?: boolean; fecha?: string }> =
    typeof rows === 'number' ? Array.from({ length: rows }, () => ({})) : rows;
  const inserted = await dataSource.query<Array<{ id: string }>>(
    `INSERT INTO notificaciones (usuario_id, mensaje, leida, fecha)
     SELECT $1, coalesce(m, 'notificación ' || ord), coalesce(l, false), coalesce(f, now())
     FROM unnest($2::text[], $3::boolean[], $4::timestamptz[]) WITH ORDINALITY AS t(m, l, f, ord)
     ORDER BY ord
     RETURNING id`,
    [
      typeof user === 'number' ? user : user.id,
      list.map((row) => row.mensaje ?? null),
      list.map((row) => row.leida ?? null),
      list.map((row) => row.fecha ?? null),
    ],
  );
  // Identity values are drawn in insertion order, which ORDER BY ord fixes.
  return inserted.map((row) => Number(row.id)).sort((a, b) => a - b);
}

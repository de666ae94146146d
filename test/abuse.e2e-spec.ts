import { randomBytes } from 'node:crypto';
import { io } from 'socket.io-client';
import request from 'supertest';
import { DataSource } from 'typeorm';
import { useApp } from './support/app';
import { openTestDatabase } from './support/database';
import { createUser } from './support/fixtures';
import { ClientSocket, connectSocket, markReadSocket } from './support/socket-client';
import { bearer, signToken } from './support/tokens';
import { healthUnderFlood } from './support/flood';
import { ServiceProcess } from './support/service-process';
import { waitFor } from './support/wait';
import { SOCKET_PATH } from '../src/websocket/socket-path';

/** The `connect_error` message of a handshake that must be refused; fails if it connects. */
async function refusal(
  url: string,
  token: string,
  options: { origin?: string; transport?: 'websocket' | 'polling' } = {},
): Promise<string> {
  const socket: ClientSocket = io(url, {
    path: SOCKET_PATH,
    auth: { token },
    transports: [options.transport ?? 'websocket'],
    reconnection: false,
    forceNew: true,
    extraHeaders: options.origin ? { Origin: options.origin } : undefined,
  });
  try {
    return await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('neither connected nor refused')), 5000);
      socket.once('connect', () => {
        clearTimeout(timer);
        reject(new Error('the server accepted a handshake it had to refuse'));
      });
      socket.once('connect_error', (error) => {
        clearTimeout(timer);
        resolve(error.message);
      });
    });
  } finally {
    socket.close();
  }
}

describe('abuse limits', () => {
  const sockets: ClientSocket[] = [];
  afterEach(() => {
    for (const socket of sockets.splice(0)) socket.close();
  });

  describe('per-user HTTP rate limit', () => {
    const app = useApp({ HTTP_RATE_LIMIT_PER_MINUTE: '5' });

    it('answers 429 in Nest shape past the limit, per user, and counts bad tokens by address', async () => {
      const [ana, bea] = await Promise.all([createUser(app), createUser(app)]);
      const list = (token: string) =>
        request(app.url).get('/notifications/api/list/').set(bearer(token));
      for (let index = 0; index < 5; index += 1) await list(signToken(ana)).expect(200);
      const limited = await list(signToken(ana)).expect(429);
      expect(limited.body).toEqual({
        statusCode: 429,
        message: 'too many requests: at most 5 per minute, slow down',
        error: 'Too Many Requests',
      });
      expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);

      // Bea has a budget of her own, which tokens forged in her name do not spend.
      await list(signToken(bea)).expect(200);
      const forged = signToken(bea, { secret: 'not the secret' });
      const statuses: number[] = [];
      for (let index = 0; index < 6; index += 1) statuses.push((await list(forged)).status);
      expect(statuses).toEqual([401, 401, 401, 401, 401, 429]);
      for (let index = 0; index < 4; index += 1) await list(signToken(bea)).expect(200);
      await list(signToken(bea)).expect(429);
    });

    it('leaves /health alone (load balancers probe it)', async () => {
      for (let index = 0; index < 8; index += 1) {
        expect((await request(app.url).get('/health')).status).toBe(200);
      }
    });
  });

  describe('sockets', () => {
    const app = useApp({
      SOCKET_RATE_LIMIT_PER_MINUTE: '3',
      MAX_SOCKETS_PER_USER: '2',
      CORS_ORIGINS: 'https://app.example.com',
    });

    async function open(token: string, origin?: string): Promise<ClientSocket> {
      const socket = await connectSocket(
        app.url,
        { token },
        { extraHeaders: origin ? { Origin: origin } : undefined },
      );
      sockets.push(socket);
      return socket;
    }

    it('acknowledges events past the per-socket limit with "rate limited" and keeps the socket', async () => {
      const user = await createUser(app);
      const socket = await open(signToken(user));
      const markRead = (target: ClientSocket) =>
        target.timeout(5000).emitWithAck('mark_read', { ids: [] });
      for (let index = 0; index < 3; index += 1) {
        expect(await markRead(socket)).toEqual({ updated: 0, unread_count: 0 });
      }
      expect(await markRead(socket)).toEqual({ error: 'rate limited' });
      expect(socket.connected).toBe(true);
      // The budget is the socket's: the user's other socket still has its own.
      const other = await open(signToken(user));
      expect(await markRead(other)).toEqual({ updated: 0, unread_count: 0 });
    });

    it('caps the sockets of one user on an instance, and frees a place when one closes', async () => {
      const [user, other] = await Promise.all([createUser(app), createUser(app)]);
      const token = signToken(user);
      const first = await open(token);
      await open(token);
      expect(await refusal(app.url, token)).toBe(
        'too many connections: at most 2 sockets per user, close one first',
      );
      await open(signToken(other));
      first.close();
      await waitFor('a place to free up', () => open(token).then(() => true));
    });

    it('admits exactly the limit when one user opens many sockets at the same moment', async () => {
      // All of them are in the room before any is counted: counting the room refused them all.
      const token = signToken(await createUser(app));
      const attempts = await Promise.allSettled(Array.from({ length: 8 }, () => open(token)));
      const admitted = attempts.filter((attempt) => attempt.status === 'fulfilled');
      expect(admitted).toHaveLength(2);
      for (const attempt of attempts) {
        if (attempt.status === 'rejected') {
          expect((attempt.reason as Error).message).toBe(
            'too many connections: at most 2 sockets per user, close one first',
          );
        }
      }
    });

    it('drops a socket that sends more than maxHttpBufferSize, and carries on', async () => {
      const user = await createUser(app);
      const socket = await open(signToken(user));
      const reason = new Promise<string>((resolve) => socket.once('disconnect', resolve));
      // No acknowledgement asked: the server never reads this message.
      (socket as unknown as { emit(event: string, payload: unknown): void }).emit('mark_read', {
        ids: [],
        padding: randomBytes(96 * 1024).toString('hex'),
      });
      expect(await reason).toMatch(/^transport (close|error)$/);
      const again = await open(signToken(user));
      expect(await again.timeout(5000).emitWithAck('mark_read', { ids: [] })).toEqual({
        updated: 0,
        unread_count: 0,
      });
    });

    it('refuses browser origins outside CORS_ORIGINS, on both transports', async () => {
      const user = await createUser(app);
      const token = signToken(user);
      for (const transport of ['websocket', 'polling'] as const) {
        expect(
          await refusal(app.url, token, { origin: 'https://evil.example.com', transport }),
        ).toBeTruthy();
        expect(await refusal(app.url, token, { origin: 'null', transport })).toBeTruthy();
      }
      // Listed, the service's own page, and non-browser clients (no Origin) connect.
      (await open(token, 'https://app.example.com')).close();
      (await open(token, app.url)).close();
      (await open(token)).close();
    });
  });

  describe('input floods: the event loop stays free while bad input is refused', () => {
    // Before the fix each of these held the event loop from 0.1 s (1,400 levels) to 5 s
    // (90,000 keys) per request, and /health answered in seconds. A generous bound: the point
    // is blocks of hundreds of milliseconds, not a benchmark.
    const HEALTH_BOUND_MS = 600;
    // A service process of its own, probed from outside as a load balancer would: the test's
    // own work of sending the flood does not count against the service.
    let service: ServiceProcess;
    let database: DataSource;
    let token: string;
    let staffToken: string;
    beforeAll(async () => {
      database = await openTestDatabase();
      // Without the per-socket budget, so that every event of the flood reaches the handler.
      service = await ServiceProcess.start({
        DATABASE_URL: process.env.DATABASE_URL,
        JWT_SECRET: process.env.JWT_SECRET,
        SOCKET_RATE_LIMIT_PER_MINUTE: '0',
        LOG_LEVEL: 'warn',
      });
      token = signToken(await createUser(database));
      staffToken = signToken(await createUser(database, { staff: true }));
    }, 30000);
    afterAll(async () => {
      await ServiceProcess.disposeAll();
      await database?.destroy();
    });

    const keyed = (keys: number, fields: string) =>
      `{${fields}` + Array.from({ length: keys }, (_, i) => `,"k${i}":1`).join('') + '}';
    const nested = (levels: number) => '['.repeat(levels) + ']'.repeat(levels);

    function post(path: string, body: string, authorization?: string): Promise<string> {
      return fetch(`${service.url}${path}`, {
        method: 'POST',
        headers: {
          'Content-Type': 'application/json',
          ...(authorization ? { Authorization: `Bearer ${authorization}` } : {}),
        },
        body,
      }).then(async (response) => {
        await response.arrayBuffer();
        return String(response.status);
      });
    }

    it('40,000 unknown keys from a logged-in user (and 30,000 to send from staff)', async () => {
      const markRead = keyed(40_000, '"ids":[]');
      const send = keyed(30_000, '"staff":true,"mensaje":"hola"');
      // Under send's limit: this one is read, and refused by its shape before it is parsed.
      expect(Buffer.byteLength(send)).toBeLessThan(384 * 1024);
      let turn = 0;
      const { slowestHealthMs, outcomes } = await healthUnderFlood(
        service.url,
        () =>
          (turn += 1) % 2 === 0
            ? post('/notifications/api/mark-read/', markRead, token)
            : post('/notifications/api/send/', send, staffToken),
        { workers: 5 },
      );
      expect([...outcomes.keys()].sort()).toEqual(['400', '413']);
      expect(slowestHealthMs).toBeLessThan(HEALTH_BOUND_MS);
    });

    it('1,400 levels of nesting over HTTP', async () => {
      const body = `{"ids":${nested(1_400)}}`;
      const { slowestHealthMs, outcomes } = await healthUnderFlood(
        service.url,
        () => post('/notifications/api/mark-read/', body, token),
        { workers: 5 },
      );
      expect([...outcomes.keys()]).toEqual(['400']);
      expect(slowestHealthMs).toBeLessThan(HEALTH_BOUND_MS);
    });

    it('1,400 levels of nesting over 5 sockets, each answered through its ack', async () => {
      const payload: unknown = JSON.parse(`{"ids":${nested(1_400)}}`);
      const floodSockets = await Promise.all(
        Array.from({ length: 5 }, () => connectSocket(service.url, { token })),
      );
      sockets.push(...floodSockets);
      const exceptions: unknown[] = [];
      for (const socket of floodSockets) {
        socket.on('exception' as never, (payload: unknown) => {
          exceptions.push(payload);
        });
      }
      let turn = 0;
      const { slowestHealthMs, outcomes } = await healthUnderFlood(
        service.url,
        async () => {
          const ack = (await markReadSocket(floodSockets[(turn += 1) % 5], payload)) as {
            error?: string;
          };
          return `ack: ${ack.error}`;
        },
        { workers: 5 },
      );
      expect([...outcomes.keys()]).toEqual([
        'ack: JSON input must not be nested deeper than 32 levels',
      ]);
      expect(exceptions).toEqual([]);
      expect(floodSockets.every((socket) => socket.connected)).toBe(true);
      expect(slowestHealthMs).toBeLessThan(HEALTH_BOUND_MS);
    });

    it('8 anonymous clients posting 1 MiB nested bodies: 401, never parsed', async () => {
      const body = `{"ids":${nested(512 * 1024 - 4)}}`;
      expect(Buffer.byteLength(body)).toBe(1024 * 1024);
      const forged = signToken(1, { secret: 'not the secret' });
      let turn = 0;
      const { slowestHealthMs, outcomes } = await healthUnderFlood(
        service.url,
        () =>
          post('/notifications/api/mark-read/', body, (turn += 1) % 2 === 0 ? undefined : forged),
        { workers: 8 },
      );
      expect([...outcomes.keys()]).toEqual(['401']);
      expect(slowestHealthMs).toBeLessThan(HEALTH_BOUND_MS);
    });
  });

  describe('HTTP headers', () => {
    const app = useApp({ CORS_ORIGINS: 'https://app.example.com' });

    it('answers CORS only for listed origins', async () => {
      const preflight = (origin: string) =>
        request(app.url)
          .options('/notifications/api/list/')
          .set('Origin', origin)
          .set('Access-Control-Request-Method', 'GET')
          .set('Access-Control-Request-Headers', 'authorization');
      const allowed = await preflight('https://app.example.com');
      expect(allowed.headers['access-control-allow-origin']).toBe('https://app.example.com');
      const refused = await preflight('https://evil.example.com');
      expect(refused.headers['access-control-allow-origin']).toBeUndefined();
    });

    it('sets helmet headers everywhere, with a CSP except on /docs, which keeps working', async () => {
      const api = await request(app.url).get('/notifications/api/list/');
      expect(api.status).toBe(401);
      expect(api.headers['x-content-type-options']).toBe('nosniff');
      expect(api.headers['x-frame-options']).toBe('SAMEORIGIN');
      expect(api.headers['content-security-policy']).toContain("default-src 'self'");
      expect(api.headers['content-security-policy']).not.toContain('upgrade-insecure-requests');
      expect(api.headers['x-powered-by']).toBeUndefined();

      const docs = await request(app.url).get('/docs').redirects(1).expect(200);
      expect(docs.text).toContain('swagger-ui');
      expect(docs.headers['content-security-policy']).toBeUndefined();
      expect(docs.headers['x-content-type-options']).toBe('nosniff');
      await request(app.url).get('/docs-json').expect(200);
    });
  });

  describe('tokens in logs', () => {
    let service: ServiceProcess;
    let database: DataSource;
    beforeAll(async () => {
      database = await openTestDatabase();
      // The most verbose level: whatever any logger writes, it writes here.
      service = await ServiceProcess.start({
        DATABASE_URL: process.env.DATABASE_URL,
        JWT_SECRET: process.env.JWT_SECRET,
        LOG_LEVEL: 'trace',
      });
    }, 30000);
    afterAll(async () => {
      await ServiceProcess.disposeAll();
      await database?.destroy();
    });

    it('never writes a token, valid or not, through any door', async () => {
      const user = await createUser(database);
      const staff = await createUser(database, { staff: true });
      const valid = signToken(user);
      const staffToken = signToken(staff);
      const expired = signToken(user, { expiresIn: -10 });
      const forged = signToken(user, { secret: 'not the secret' });
      const tokens = [valid, staffToken, expired, forged];

      for (const token of tokens) {
        await request(service.url).get('/notifications/api/list/').set(bearer(token));
        await request(service.url).get(
          `/notifications/api/list/?token=${token}&access_token=${token}`,
        );
        await request(service.url)
          .post('/notifications/api/send/')
          .set(bearer(token))
          .send({ usuarios: [user.id], mensaje: 'hola' });
        await request(service.url)
          .post('/notifications/api/mark-read/')
          .set(bearer(token))
          .send('{bad json');
        await connectSocket(service.url, { token }).then(
          (socket) => socket.close(),
          () => undefined,
        );
        await connectSocket(service.url, undefined, { extraHeaders: bearer(token) }).then(
          (socket) => socket.close(),
          () => undefined,
        );
      }
      // The last request's lines are written before its response: wait for one of them.
      await request(service.url).get('/health?after=tokens');
      await waitFor('the log to catch up', () => service.output().includes('after=tokens'));

      const output = service.output();
      expect(output.length).toBeGreaterThan(0);
      for (const token of tokens) {
        expect(output).not.toContain(token);
        // Not even the signature, which is what makes a token usable.
        expect(output).not.toContain(token.split('.')[2]);
      }
    }, 30000);
  });
});

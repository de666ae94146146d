import { AddressInfo, createServer, Server, Socket } from 'node:net';
import request from 'supertest';
import type { Pool, QueryConfig } from 'pg';
import type { PostgresDriver } from 'typeorm/driver/postgres/PostgresDriver';
import { encodeCursor } from '../src/notifications/cursor';
import { User } from '../src/users/user.entity';
import { bearer, createUser, insertNotifications, signToken, startApp, TestApp } from './factories';

interface PlanNode {
  'Node Type': string;
  'Index Name'?: string;
  'Parent Relationship'?: string;
  Plans?: PlanNode[];
}

/**
 * The nodes that produce the rows, leaving out sub-plans (the unread count the page carries,
 * whose plan depends on how much of this small test table is the user's).
 */
function nodesOf(plan: PlanNode): PlanNode[] {
  const rowSources = (plan.Plans ?? []).filter(
    (child) => !['InitPlan', 'SubPlan'].includes(child['Parent Relationship'] ?? ''),
  );
  return [plan, ...rowSources.flatMap(nodesOf)];
}

/**
 * A TCP relay to the test database that can be cut and restored, so a test can make the
 * database unreachable for one app without touching the shared server.
 */
async function databaseRelay(): Promise<{
  url: string;
  cut(): void;
  restore(): void;
  close(): Promise<void>;
}> {
  const target = new URL(process.env.DATABASE_URL!);
  const sockets = new Set<Socket>();
  let down = false;
  const server: Server = createServer((client) => {
    if (down) {
      client.destroy();
      return;
    }
    const upstream = new Socket();
    upstream.connect(Number(target.port || 5432), target.hostname);
    for (const [a, b] of [
      [client, upstream],
      [upstream, client],
    ]) {
      sockets.add(a);
      a.pipe(b);
      a.on('error', () => b.destroy());
      a.on('close', () => {
        sockets.delete(a);
        b.destroy();
      });
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = new URL(target);
  url.hostname = '127.0.0.1';
  url.port = String((server.address() as AddressInfo).port);
  return {
    url: url.toString(),
    cut: () => {
      down = true;
      for (const socket of sockets) socket.destroy();
    },
    restore: () => {
      down = false;
    },
    close: () => {
      for (const socket of sockets) socket.destroy();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

describe('HTTP surface', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startApp();
  });
  afterAll(() => app.close());

  it.each([
    ['get', '/nope'],
    ['get', '/notifications/api/nope/'],
    ['get', '/notifications/api/send/'],
    ['post', '/notifications/api/list/'],
    ['delete', '/notifications/api/mark-read/'],
  ] as const)(
    'answers %s %s with 404 in Nest shape, before any authentication',
    async (method, path) => {
      const client = request(app.url);
      const { body } = await client[method](path).expect(404);
      expect(body).toEqual({
        statusCode: 404,
        message: expect.any(String),
        error: 'Not Found',
      });
    },
  );

  it('GET /health answers 200 while the database answers', async () => {
    const { body } = await request(app.url).get('/health').expect(200);
    expect(body).toMatchObject({ status: 'ok', info: { database: { status: 'up' } } });
  });

  it('GET /docs serves the OpenAPI UI', async () => {
    await request(app.url)
      .get('/docs')
      .expect(200)
      .expect('Content-Type', /text\/html/);
  });

  it('GET /docs-json is the OpenAPI document with the three routes', async () => {
    const { body } = await request(app.url)
      .get('/docs-json')
      .expect(200)
      .expect('Content-Type', /application\/json/);
    expect(body.openapi).toMatch(/^3\./);
    expect(Object.keys(body.paths['/notifications/api/list'])).toEqual(['get']);
    expect(Object.keys(body.paths['/notifications/api/mark-read'])).toEqual(['post']);
    expect(Object.keys(body.paths['/notifications/api/send'])).toEqual(['post']);
    expect(body.paths['/notifications/api/mark-read'].post.responses).toHaveProperty('200');
    expect(body.paths['/notifications/api/send'].post.responses).toHaveProperty('201');
  });

  it('deleting a user deletes its notifications', async () => {
    const doomed = await createUser(app);
    const kept = await createUser(app);
    await insertNotifications(app, doomed, 3);
    const keptIds = await insertNotifications(app, kept, 2);
    const countOf = async (user: User) =>
      (
        await app.dataSource.query<Array<{ count: number }>>(
          'SELECT count(*)::int AS count FROM notificaciones WHERE usuario_id = $1',
          [user.id],
        )
      )[0].count;
    expect(await countOf(doomed)).toBe(3);

    await app.dataSource.query('DELETE FROM users WHERE id = $1', [doomed.id]);
    expect(await countOf(doomed)).toBe(0);
    expect(await countOf(kept)).toBe(keptIds.length);
  });

  describe('the list query on a user with 20,000 notifications', () => {
    const TOTAL = 20_000;
    let user: User;
    let ids: number[];
    beforeAll(async () => {
      user = await createUser(app);
      // Groups of three share a fecha, so ties on fecha are everywhere; every third row is read;
      // every fifth is a `pedido`, the rest `general`.
      const rows = await app.dataSource.query<Array<{ id: string }>>(
        `INSERT INTO notificaciones (usuario_id, mensaje, leida, fecha, tipo)
         SELECT $1, 'n' || g, g % 3 = 0, now() - ((${TOTAL} - g) / 3) * interval '1 second',
                CASE WHEN g % 5 = 0 THEN 'pedido' ELSE 'general' END
         FROM generate_series(1, ${TOTAL}) AS g
         ORDER BY g
         RETURNING id`,
        [user.id],
      );
      ids = rows.map((row) => Number(row.id)).sort((a, b) => a - b);
      await app.dataSource.query('ANALYZE notificaciones');
    }, 60_000);

    /** Follows next_cursor from the first page to the end; returns every id seen. */
    async function walk(query: Record<string, string>): Promise<number[]> {
      const seen: number[] = [];
      let cursor: string | null = null;
      do {
        const response = await request(app.url)
          .get('/notifications/api/list/')
          .query(cursor ? { ...query, cursor } : query)
          .set(bearer(signToken(user)))
          .expect(200);
        const body = response.body as {
          notifications: Array<{ id: number }>;
          next_cursor: string | null;
        };
        seen.push(...body.notifications.map((n) => n.id));
        cursor = body.next_cursor;
      } while (cursor);
      return seen;
    }

    /** The cursor that follows the row at `offset` in list order, as the service builds it. */
    async function cursorAt(offset: number, unread = false): Promise<string> {
      const [row] = await app.dataSource.query<Array<{ id: string; fecha: string }>>(
        `SELECT id, to_char(fecha AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS fecha
         FROM notificaciones WHERE usuario_id = $1 ${unread ? 'AND NOT leida' : ''}
         ORDER BY fecha DESC, id DESC OFFSET $2 LIMIT 1`,
        [user.id, offset],
      );
      return encodeCursor({ fecha: row.fecha, id: Number(row.id) });
    }

    /** The SQL and parameters of the list query the service runs for this request. */
    async function listQueryOf(query: Record<string, string>) {
      // The hot queries go straight to the pg pool behind TypeORM, as prepared statements.
      const pool = (app.dataSource.driver as PostgresDriver).master as Pool;
      const spy = jest.spyOn(pool, 'query');
      try {
        await request(app.url)
          .get('/notifications/api/list/')
          .query(query)
          .set(bearer(signToken(user)))
          .expect(200);
        const listing = spy.mock.calls
          .map(([config, values]) =>
            typeof config === 'string'
              ? { sql: config, parameters: (values as unknown[] | undefined) ?? [] }
              : {
                  sql: (config as QueryConfig).text,
                  parameters: (config as QueryConfig).values ?? [],
                },
          )
          .filter(
            ({ sql }) =>
              /FROM\s+"?notificaciones"?/i.test(sql) && /ORDER BY/i.test(sql) && /LIMIT/i.test(sql),
          );
        expect(listing).toHaveLength(1);
        return listing[0];
      } finally {
        spy.mockRestore();
      }
    }

    async function planOf(query: Record<string, string>): Promise<PlanNode[]> {
      const { sql, parameters } = await listQueryOf(query);
      const [row] = await app.dataSource.query<Array<{ 'QUERY PLAN': Array<{ Plan: PlanNode }> }>>(
        `EXPLAIN (FORMAT JSON) ${sql}`,
        parameters,
      );
      return nodesOf(row['QUERY PLAN'][0].Plan);
    }

    function expectIndexServed(nodes: PlanNode[], allowedSorts: string[]) {
      const types = nodes.map((node) => node['Node Type']);
      expect(
        nodes.some(
          (node) =>
            ['Index Scan', 'Index Only Scan'].includes(node['Node Type']) &&
            node['Index Name']?.startsWith('notificaciones_usuario'),
        ),
      ).toBe(true);
      expect(types).not.toContain('Seq Scan');
      expect(types.filter((type) => /Sort/.test(type) && !allowedSorts.includes(type))).toEqual([]);
    }

    it('pages through all of them with no skips or repeats', async () => {
      expect(await walk({ limit: '100' })).toEqual([...ids].reverse());
      const unread = ids.filter((_, i) => (i + 1) % 3 !== 0);
      expect(await walk({ limit: '100', unread: 'true' })).toEqual(unread.reverse());
      const pedidos = ids.filter((_, i) => (i + 1) % 5 === 0);
      expect(await walk({ limit: '100', tipo: 'pedido' })).toEqual([...pedidos].reverse());
      const unreadPedidos = pedidos.filter((id) => unread.includes(id));
      expect(await walk({ limit: '100', tipo: 'pedido', unread: 'true' })).toEqual(
        unreadPedidos.reverse(),
      );
    }, 60_000);

    it('serves the first page and a deep page from an index, without sorting the rows', async () => {
      expectIndexServed(await planOf({ limit: '20' }), []);
      expectIndexServed(await planOf({ limit: '100', cursor: await cursorAt(15_000) }), []);
    });

    it('serves pages of one tipo from the same indexes, first and deep, all or unread', async () => {
      // No index of its own (each would cost every mark-read): the list's indexes, filtered. A
      // kind this user has none of is left out on purpose: the page then walks all of the
      // user's rows, and on a table that is mostly this one user, a scan of it is cheaper (see
      // README, "Kinds": the known limit of filtering without an index per kind).
      for (const tipo of ['pedido', 'general']) {
        expectIndexServed(await planOf({ tipo }), []);
        expectIndexServed(await planOf({ tipo, limit: '100', cursor: await cursorAt(15_000) }), []);
        expectIndexServed(await planOf({ tipo, unread: 'true' }), ['Incremental Sort']);
        expectIndexServed(
          await planOf({
            tipo,
            unread: 'true',
            limit: '100',
            cursor: await cursorAt(10_000, true),
          }),
          ['Incremental Sort'],
        );
      }
    });

    it('serves unread pages from an index, sorting at most within equal fechas', async () => {
      expectIndexServed(await planOf({ unread: 'true' }), ['Incremental Sort']);
      const cursor = await cursorAt(10_000, true);
      expectIndexServed(await planOf({ unread: 'true', limit: '100', cursor }), [
        'Incremental Sort',
      ]);
    });
  });

  describe('CORS', () => {
    it('allows only the origins in CORS_ORIGINS', async () => {
      const cors = await startApp({
        CORS_ORIGINS: 'https://app.example.com,http://localhost:5173',
      });
      try {
        const allowed = await request(cors.url)
          .options('/notifications/api/list/')
          .set('Origin', 'https://app.example.com')
          .set('Access-Control-Request-Method', 'GET')
          .set('Access-Control-Request-Headers', 'authorization');
        expect(allowed.status).toBeLessThan(300);
        expect(allowed.headers['access-control-allow-origin']).toBe('https://app.example.com');
        expect(allowed.headers['access-control-allow-headers']).toMatch(/authorization/i);

        const other = await request(cors.url)
          .get('/health')
          .set('Origin', 'https://evil.example.com')
          .expect(200);
        expect(other.headers['access-control-allow-origin']).toBeUndefined();
      } finally {
        await cors.close();
      }
    });

    it('allows no cross-origin caller when CORS_ORIGINS is unset', async () => {
      const response = await request(app.url)
        .get('/health')
        .set('Origin', 'https://app.example.com')
        .expect(200);
      expect(response.headers['access-control-allow-origin']).toBeUndefined();
    });
  });

  describe('with the database unreachable', () => {
    let relay: Awaited<ReturnType<typeof databaseRelay>>;
    let cut: TestApp;
    let user: User;
    beforeAll(async () => {
      relay = await databaseRelay();
      cut = await startApp({ DATABASE_URL: relay.url });
      user = await createUser(app);
    });
    afterEach(() => relay.restore());
    afterAll(async () => {
      await cut.close();
      await relay.close();
    });

    it('answers 503 in Nest shape on every route and on /health, then recovers', async () => {
      await request(cut.url).get('/health').expect(200);
      relay.cut();

      const health = await request(cut.url).get('/health').expect(503);
      expect(health.body).toMatchObject({ status: 'error' });
      const calls = [
        request(cut.url).get('/notifications/api/list/'),
        request(cut.url).post('/notifications/api/mark-read/').send({ ids: [] }),
        request(cut.url)
          .post('/notifications/api/send/')
          .send({ usuarios: [user.id], mensaje: 'hola' }),
      ];
      for (const call of calls) {
        const { body } = await call.set(bearer(signToken(user))).expect(503);
        expect(body).toEqual({
          statusCode: 503,
          message: expect.any(String),
          error: 'Service Unavailable',
        });
      }

      relay.restore();
      await request(cut.url).get('/health').expect(200);
      await request(cut.url)
        .get('/notifications/api/list/')
        .set(bearer(signToken(user)))
        .expect(200);
    });
  });
});

import { randomBytes } from 'node:crypto';
import request from 'supertest';
import type { QueryConfig } from 'pg';
import { encodeCursor } from '../src/notifications/cursor';
import { User } from '../src/users/user.entity';
import { useApp } from './support/app';
import { createUser } from './support/fixtures';
import { bearer, signToken } from './support/tokens';
import { pgPoolOf } from '../src/database/pg-pool';

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

const PLAN_SCHEMA = `list_plan_${randomBytes(4).toString('hex')}`;

describe('the list query on a user with 20,000 notifications', () => {
  // Declared before the app's own afterAll, which closes its connections: Jest runs them in turn.
  afterAll(async () => {
    await app.dataSource.query(`DROP SCHEMA IF EXISTS ${PLAN_SCHEMA} CASCADE`);
  });
  const app = useApp();
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
    // The plans are read on a copy of the table holding only this user's rows and as many of
    // 200 others': the run's shared table holds whatever earlier test files left (300,000
    // rows of one user, fan-outs), and its statistics would decide the plan instead.
    await app.dataSource.query(`CREATE SCHEMA ${PLAN_SCHEMA}`);
    await app.dataSource.query(
      `CREATE TABLE ${PLAN_SCHEMA}.notificaciones (LIKE public.notificaciones INCLUDING ALL)`,
    );
    await app.dataSource.query(
      `INSERT INTO ${PLAN_SCHEMA}.notificaciones OVERRIDING SYSTEM VALUE
       SELECT * FROM public.notificaciones WHERE usuario_id = $1`,
      [user.id],
    );
    await app.dataSource.query(
      `INSERT INTO ${PLAN_SCHEMA}.notificaciones (id, usuario_id, mensaje, leida, fecha, tipo)
       OVERRIDING SYSTEM VALUE
       SELECT m.top + g, $1::int + 1 + g % 200, 'o' || g, g % 2 = 0,
              now() - g * interval '1 second',
              CASE WHEN g % 4 = 0 THEN 'pedido' ELSE 'general' END
       FROM generate_series(1, ${TOTAL}) AS g,
            (SELECT max(id) AS top FROM ${PLAN_SCHEMA}.notificaciones) AS m`,
      [user.id],
    );
    await app.dataSource.query(`ANALYZE ${PLAN_SCHEMA}.notificaciones`);
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
    const pool = pgPoolOf(app.dataSource)!;
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
    const client = await pgPoolOf(app.dataSource)!.connect();
    try {
      await client.query('BEGIN');
      await client.query(`SET LOCAL search_path TO ${PLAN_SCHEMA}, public`);
      const { rows } = await client.query<{ 'QUERY PLAN': Array<{ Plan: PlanNode }> }>(
        `EXPLAIN (FORMAT JSON) ${sql}`,
        parameters,
      );
      return nodesOf(rows[0]['QUERY PLAN'][0].Plan);
    } finally {
      await client.query('ROLLBACK');
      client.release();
    }
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
    expectIndexServed(await planOf({ unread: 'true', limit: '100', cursor }), ['Incremental Sort']);
  });
});

import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import type { DataSource } from 'typeorm';
import { pgPoolOf } from '../src/database/pg-pool';
import { OutboxRepository, Queryable } from '../src/notifications/delivery/outbox.repository';
import { openTestDatabase } from './support/database';

interface PlanNode {
  'Node Type': string;
  'Relation Name'?: string;
  Plans?: PlanNode[];
}

function allNodes(plan: PlanNode): PlanNode[] {
  return [plan, ...(plan.Plans ?? []).flatMap(allNodes)];
}

/** The statement and values the leader's read sends, without running it. */
async function readStatement(
  repository: OutboxRepository,
  floor: number,
): Promise<{ text: string; values: unknown[] }> {
  let sent: { text: string; values: unknown[] } | undefined;
  const recorder = {
    query: (statement: { text: string; values: unknown[] }) => {
      sent = statement;
      return Promise.resolve({
        rows: [
          {
            newest: null,
            late: 0,
            entries: [],
            notificaciones: [],
            rows: [],
            counts: [],
            deletions: [],
          },
        ],
      });
    },
  } as unknown as Queryable;
  await repository.read(recorder, [], floor, floor);
  return sent!;
}

/** The parameter types of the leader's read, for PREPARE. */
const READ_TYPES = 'bigint[], int, bigint, int, bigint, bigint';

/** The read's values as SQL literals, for EXECUTE. */
function literals(values: unknown[]): string {
  return values
    .map((value) => (Array.isArray(value) ? `'{${value.join(',')}}'` : String(value)))
    .join(', ');
}

/** The node types of every scan of `notificaciones` in an EXPLAIN (FORMAT JSON) result. */
function scansOf(explained: Array<{ 'QUERY PLAN': Array<{ Plan: PlanNode }> }>): string[] {
  return allNodes(explained[0]['QUERY PLAN'][0].Plan)
    .filter((node) => node['Relation Name'] === 'notificaciones')
    .map((node) => node['Node Type']);
}

/**
 * The leader reads the outbox many times a second, so its statement must cost the same on a
 * table of any size. A join from `unnest()` to `notificaciones` was planned as a scan of the
 * whole table once the table was large enough for a hash join to look cheaper than a thousand
 * (estimated) index probes: each read then cost milliseconds more per 10,000 rows.
 */
describe('the delivery leader read on a table of 30,000 notifications', () => {
  let dataSource: DataSource;
  let ids: number[];

  beforeAll(async () => {
    dataSource = await openTestDatabase();
    const users = await dataSource.query<Array<{ id: number }>>(
      `INSERT INTO users (username)
       SELECT 'plan-' || g || '-' || gen_random_uuid() FROM generate_series(1, 300) AS g
       RETURNING id`,
    );
    // A hundred notifications per user, interleaved in time as real traffic is.
    const rows = await dataSource.query<Array<{ id: string }>>(
      `INSERT INTO notificaciones (usuario_id, mensaje)
       SELECT ($1::int[])[1 + g % 300], 'n' || g FROM generate_series(1, 30000) AS g
       RETURNING id`,
      [users.map((user) => user.id)],
    );
    ids = rows.map((row) => Number(row.id)).sort((a, b) => a - b);
    // Forty pending entries of three notifications each, from the newest rows: enough for the
    // planner to expect many ids, as it does under load.
    for (let entry = 0; entry < 40; entry++) {
      const slice = ids.slice(ids.length - 3 * (entry + 1), ids.length - 3 * entry);
      await dataSource.query(`INSERT INTO entregas_pendientes (notificaciones) VALUES ($1)`, [
        slice,
      ]);
    }
    await dataSource.query('ANALYZE notificaciones');
    await dataSource.query('ANALYZE entregas_pendientes');
  }, 60_000);

  afterAll(async () => {
    await dataSource.query(`DELETE FROM entregas_pendientes`);
    await dataSource.destroy();
  });

  /** The scans of `notificaciones` in the plan of the read, run and rolled back. */
  async function scansOfNotificaciones(plan: 'custom' | 'generic'): Promise<string[]> {
    // Every row late (the floor is above them), so the late-recording part runs too.
    const { text, values } = await readStatement(new OutboxRepository(dataSource), ids.at(-1)!);
    const client = await pgPoolOf(dataSource)!.connect();
    try {
      await client.query('BEGIN');
      let explained: Array<{ 'QUERY PLAN': Array<{ Plan: PlanNode }> }>;
      if (plan === 'custom') {
        ({ rows: explained } = await client.query(
          `EXPLAIN (ANALYZE, FORMAT JSON) ${text}`,
          values,
        ));
      } else {
        await client.query(`SET LOCAL plan_cache_mode = force_generic_plan`);
        await client.query(`PREPARE leader_read (${READ_TYPES}) AS ${text}`);
        ({ rows: explained } = await client.query(
          `EXPLAIN (ANALYZE, FORMAT JSON) EXECUTE leader_read (${literals(values)})`,
        ));
        await client.query('DEALLOCATE leader_read');
      }
      return scansOf(explained);
    } finally {
      await client.query('ROLLBACK');
      client.release();
    }
  }

  it.each(['custom', 'generic'] as const)(
    'looks notifications up by index only (%s plan)',
    async (plan) => {
      const scans = await scansOfNotificaciones(plan);
      expect(scans.length).toBeGreaterThan(0);
      expect(scans.filter((type) => type.includes('Seq Scan'))).toEqual([]);
    },
  );
});

/**
 * The leader plans its read once per connection and leads for as long as that connection lives,
 * so the plan it made on a fresh install's small table is still the one it runs once the table
 * holds tens of thousands of rows, until autovacuum next analyzes it. A plan made on a few
 * hundred rows scanned the table whole, three times per read.
 */
describe('the delivery leader read planned while the table was small', () => {
  const schema = `plan_growth_${randomBytes(4).toString('hex')}`;
  let dataSource: DataSource;
  let client: Client;

  beforeAll(async () => {
    dataSource = await openTestDatabase();
    client = new Client(pgPoolOf(dataSource)!.options);
    await client.connect();
    // Copies of the tables the read touches (indexes and defaults included) as a fresh install
    // has them a moment after it started: a few hundred notifications, which autovacuum has just
    // analyzed (it does after the first fifty rows).
    await client.query(`CREATE SCHEMA ${schema}`);
    for (const table of [
      'notificaciones',
      'entregas_pendientes',
      'entregas_tardias',
      'entregas_progreso',
    ]) {
      await client.query(`CREATE TABLE ${schema}.${table} (LIKE public.${table} INCLUDING ALL)`);
    }
    await client.query(`SET search_path TO ${schema}`);
    await client.query('INSERT INTO entregas_progreso (leido_hasta) VALUES (0)');
    await insertNotifications(300);
    await client.query('ANALYZE notificaciones');
  });

  /** Inserts `count` notifications over 300 users; their ids, ascending. */
  async function insertNotifications(count: number): Promise<number[]> {
    const { rows } = await client.query<{ id: string }>(
      `INSERT INTO notificaciones (usuario_id, mensaje)
       SELECT 1 + g % 300, 'n' || g FROM generate_series(1, $1::int) AS g
       RETURNING id`,
      [count],
    );
    return rows.map((row) => Number(row.id)).sort((a, b) => a - b);
  }

  afterAll(async () => {
    await client.query(`DROP SCHEMA ${schema} CASCADE`);
    await client.end();
    await dataSource.destroy();
  });

  it('still looks notifications up by index after the table has grown', async () => {
    const repository = new OutboxRepository(dataSource);
    // The leader's own connection settings, then its read planned once, on the small table.
    await repository.configureSession(client);
    await client.query(`SET plan_cache_mode = force_generic_plan`);
    const first = await readStatement(repository, 0);
    await client.query(`PREPARE leader_read (${READ_TYPES}) AS ${first.text}`);
    await client.query(`EXECUTE leader_read (${literals(first.values)})`);

    // 30,000 more rows and forty pending entries arrive before autovacuum looks again.
    const ids = await insertNotifications(30_000);
    for (let entry = 0; entry < 40; entry++) {
      const slice = ids.slice(ids.length - 3 * (entry + 1), ids.length - 3 * entry);
      await client.query(`INSERT INTO entregas_pendientes (notificaciones) VALUES ($1)`, [slice]);
    }

    const { values } = await readStatement(repository, ids.at(-1)!);
    await client.query('BEGIN');
    try {
      const { rows: explained } = await client.query<{
        'QUERY PLAN': Array<{ Plan: PlanNode }>;
      }>(`EXPLAIN (ANALYZE, FORMAT JSON) EXECUTE leader_read (${literals(values)})`);
      const scans = scansOf(explained);
      expect(scans.length).toBeGreaterThan(0);
      expect(scans.filter((type) => type.includes('Seq Scan'))).toEqual([]);
      // With sequential scans off, one left anywhere in the plan means that table has no index
      // path: its disabled cost then dwarfs everything the planner weighs for the rest.
      const anySeqScan = allNodes(explained[0]['QUERY PLAN'][0].Plan)
        .filter((node) => node['Node Type'].includes('Seq Scan'))
        .map((node) => node['Relation Name']);
      expect(anySeqScan).toEqual([]);
    } finally {
      await client.query('ROLLBACK');
    }
  }, 60_000);
});

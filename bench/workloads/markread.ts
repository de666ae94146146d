import { performance } from 'node:perf_hooks';
import type { Pool } from 'pg';
import type { Workload } from '../lib/context';
import { createUsers } from '../lib/database';
import { HttpClient } from '../lib/http';
import { info } from '../lib/log';
import { warmPool } from '../lib/raw-insert';
import { at } from '../lib/report';
import { markReadSql } from '../../src/notifications/inbox.repository';
import { median } from '../lib/stats';
import { signToken } from '../lib/tokens';

const MARK_READ_PATH = '/notifications/api/mark-read/';

/**
 * The schema of the Django app this service replaces, for the same rows: a copy of the
 * notifications table (same columns and defaults, so rows are as wide) carrying only the
 * primary key and the contract's `(usuario, leida, fecha DESC)` index: no other index, no
 * check, no foreign key. (Django also indexes every ForeignKey by default, `usuario_id` here:
 * this copy leaves that index out, so it pays one index less per row than Django did.)
 */
const DJANGO_TABLE = 'notificaciones_django';

async function createDjangoTable(pool: Pool): Promise<void> {
  await pool.query(`DROP TABLE IF EXISTS ${DJANGO_TABLE}`);
  await pool.query(
    `CREATE TABLE ${DJANGO_TABLE} (LIKE notificaciones INCLUDING DEFAULTS INCLUDING IDENTITY)`,
  );
  await pool.query(`ALTER TABLE ${DJANGO_TABLE} ADD PRIMARY KEY (id)`);
  await pool.query(`CREATE INDEX ON ${DJANGO_TABLE} (usuario_id, leida, fecha DESC)`);
}

/** The service's mark-all-read statement, run on `table` instead of `notificaciones`. */
function markAllReadSqlOn(table: string): string {
  const sql = markReadSql(false);
  const renamed = sql.replace(/\bnotificaciones\b/g, table);
  if (renamed === sql) throw new Error('the mark-read statement no longer names notificaciones');
  return renamed;
}

/** A new user with `rows` unread notifications in `table`, a second apart. */
async function userWithUnread(
  pool: Pool,
  name: string,
  rows: number,
  table = 'notificaciones',
): Promise<number> {
  const [id] = await createUsers(pool, name, 1);
  await pool.query(
    `INSERT INTO ${table} (usuario_id, mensaje, leida, fecha)
     SELECT $1, 'Sin leer ' || g, false, now() - make_interval(secs => ($2::int - g)::double precision)
     FROM generate_series(1, $2::int) AS g`,
    [id, rows],
  );
  return id;
}

/** What PostgreSQL did for one mark-all-read: `EXPLAIN (ANALYZE, BUFFERS, WAL)`, as text. */
async function explain(pool: Pool, sql: string, userId: number): Promise<string> {
  const { rows } = await pool.query<{ 'QUERY PLAN': string }>(
    `EXPLAIN (ANALYZE, BUFFERS, WAL) ${sql}`,
    [userId],
  );
  return rows.map((row) => row['QUERY PLAN']).join('\n');
}

/**
 * Mark-all-read for a user with many unread, on freshly seeded data each round; the median.
 * Against two baselines of the same round: the same statement straight through `pg` on this
 * schema (what PostgreSQL costs), and on Django's schema (what the system we replace paid).
 */
export const markread: Workload = {
  name: 'markread',
  async run(context) {
    const { db, sizes, secret, tag, report } = context;
    const rows = sizes.markreadRows;
    await createDjangoTable(db.pool);
    const service = await context.startService('markread');
    const client = new HttpClient(service.url, 1);
    const djangoSql = markAllReadSqlOn(DJANGO_TABLE);
    const ours: number[] = [];
    const raw: number[] = [];
    const django: number[] = [];
    const plans: Record<string, string> = {};
    try {
      // As the service's connections: no JIT (see src/database/data-source.ts).
      const pool = await warmPool(db.url, 1, 'bench-baseline', { options: '-c jit=off' });
      try {
        // Round 0 warms all three up and is not counted.
        for (let round = 0; round <= sizes.markreadRepeats; round += 1) {
          const userId = await userWithUnread(db.pool, `bench-${tag}-markread-${round}`, rows);
          const token = signToken(secret, userId);
          let started = performance.now();
          const body = await client.json<{ updated: number }>('POST', MARK_READ_PATH, 200, {
            token,
            json: { ids: [] },
          });
          const ms = performance.now() - started;
          if (body.updated !== rows)
            throw new Error(`mark-read updated ${body.updated} of ${rows}`);

          const rawUser = await userWithUnread(db.pool, `bench-${tag}-markread-raw-${round}`, rows);
          started = performance.now();
          await pool.query(markReadSql(false), [rawUser]);
          const rawMs = performance.now() - started;

          const djangoUser = await userWithUnread(
            db.pool,
            `bench-${tag}-markread-django-${round}`,
            rows,
            DJANGO_TABLE,
          );
          started = performance.now();
          const {
            rows: [done],
          } = await pool.query<{ updated: number }>(djangoSql, [djangoUser]);
          const djangoMs = performance.now() - started;
          if (done.updated !== rows)
            throw new Error(`mark-read on Django's schema updated ${done.updated} of ${rows}`);

          info(
            `markread round ${round}${round === 0 ? ' (warm-up)' : ''}: ${ms.toFixed(1)} ms, ` +
              `raw ${rawMs.toFixed(1)} ms, Django's schema ${djangoMs.toFixed(1)} ms`,
          );
          if (round === 0) continue;
          ours.push(ms);
          raw.push(rawMs);
          django.push(djangoMs);
        }
        // What each schema costs PostgreSQL, for the results file: one more round of each.
        const oursUser = await userWithUnread(db.pool, `bench-${tag}-markread-plan`, rows);
        plans.ours = await explain(pool, markReadSql(false), oursUser);
        const djangoUser = await userWithUnread(
          db.pool,
          `bench-${tag}-markread-plan-django`,
          rows,
          DJANGO_TABLE,
        );
        plans.django = await explain(pool, djangoSql, djangoUser);
      } finally {
        await pool.end();
      }
    } finally {
      client.close();
      await service.stop();
      await db.pool.query(`DROP TABLE IF EXISTS ${DJANGO_TABLE}`);
    }
    const label = `markread ${rows.toLocaleString('en-US')}`;
    report.add(label, 'ms (median)', median(ours), {
      baseline: median(raw),
      target: at.below(50),
    });
    report.add(label, "ms vs Django's schema", median(ours), {
      baseline: median(django),
      target: at.ratioAtMost(1, "Django's schema"),
    });
    context.details.markread = {
      rows,
      ms: ours,
      baselineMs: raw,
      djangoSchemaMs: django,
      explain: plans,
    };
  },
};

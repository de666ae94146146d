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

/** A new user with `rows` unread notifications, a second apart. */
async function userWithUnread(pool: Pool, name: string, rows: number): Promise<number> {
  const [id] = await createUsers(pool, name, 1);
  await pool.query(
    `INSERT INTO notificaciones (usuario_id, mensaje, leida, fecha)
     SELECT $1, 'Sin leer ' || g, false, now() - make_interval(secs => ($2::int - g)::double precision)
     FROM generate_series(1, $2::int) AS g`,
    [id, rows],
  );
  return id;
}

/** Mark-all-read for a user with many unread, on freshly seeded data each time; the median. */
export const markread: Workload = {
  name: 'markread',
  async run(context) {
    const { db, sizes, secret, tag, report } = context;
    const rows = sizes.markreadRows;
    const service = await context.startService('markread');
    const client = new HttpClient(service.url, 1);
    const ours: number[] = [];
    const raw: number[] = [];
    try {
      const pool = await warmPool(db.url, 1, 'bench-baseline');
      try {
        // Round 0 warms both sides up and is not counted.
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
          info(
            `markread round ${round}${round === 0 ? ' (warm-up)' : ''}: ${ms.toFixed(1)} ms, raw ${rawMs.toFixed(1)} ms`,
          );
          if (round === 0) continue;
          ours.push(ms);
          raw.push(rawMs);
        }
      } finally {
        await pool.end();
      }
    } finally {
      client.close();
      await service.stop();
    }
    report.add(`markread ${rows.toLocaleString('en-US')}`, 'ms (median)', median(ours), {
      baseline: median(raw),
      target: at.below(50),
    });
    context.details.markread = { rows, ms: ours, baselineMs: raw };
  },
};

import { Pool, PoolConfig } from 'pg';
import { countedLoop, LoopResult } from './load';

/** The statement the deliver baseline runs: what persisting one notification costs at least. */
export const RAW_INSERT = `INSERT INTO notificaciones (usuario_id, mensaje) VALUES ($1, $2)
  RETURNING id, usuario_id, mensaje, leida, fecha`;

/**
 * A pool with all `size` connections already open, so the first statements pay no connect;
 * `extra` adds pool or connection settings.
 */
export async function warmPool(
  url: string,
  size: number,
  name: string,
  extra: PoolConfig = {},
): Promise<Pool> {
  const pool = new Pool({ connectionString: url, max: size, application_name: name, ...extra });
  const clients = await Promise.all(Array.from({ length: size }, () => pool.connect()));
  for (const client of clients) client.release();
  return pool;
}

/**
 * `total` single-row INSERT ... RETURNING statements straight through pg, `concurrency` at a
 * time on as many connections: the ceiling PostgreSQL sets for one-at-a-time notifications.
 */
export async function rawSingleInserts(
  url: string,
  userIds: readonly number[],
  total: number,
  concurrency: number,
  mensaje: string,
): Promise<LoopResult> {
  const pool = await warmPool(url, concurrency, 'bench-baseline');
  let next = 0;
  try {
    return await countedLoop(concurrency, total, async () => {
      const userId = userIds[next++ % userIds.length];
      await pool.query(RAW_INSERT, [userId, mensaje]);
    });
  } finally {
    await pool.end();
  }
}

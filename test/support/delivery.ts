import { Client } from 'pg';
import { DataSource } from 'typeorm';
import { LEADER_LOCK } from '../../src/database/advisory-lock';
import { waitFor } from './wait';

/**
 * Resolves once the delivery leader has published everything committed so far: it deletes an
 * outbox row only after publishing it, so an empty outbox means nothing is left to push.
 */
export async function outboxDrained(dataSource: DataSource, timeoutMs = 10_000): Promise<void> {
  await waitFor(
    'the delivery leader to publish the outbox',
    async () => {
      const [{ count }] = await dataSource.query<Array<{ count: number }>>(
        'SELECT count(*)::int AS count FROM entregas_pendientes',
      );
      return count === 0;
    },
    { timeoutMs, intervalMs: 20 },
  );
}

/**
 * Resolves once the delivery leader has read up to notification `id`: catch-up replays nothing
 * above what it has read. Rows a test inserts straight into the table (no outbox row) are read
 * by the leader's next poll, within half a second.
 */
export async function leaderHasRead(
  dataSource: DataSource,
  id: number,
  timeoutMs = 10_000,
): Promise<void> {
  await waitFor(
    `the delivery leader to read up to notification ${id}`,
    async () => {
      const [{ read }] = await dataSource.query<Array<{ read: string }>>(
        'SELECT leido_hasta AS read FROM entregas_progreso',
      );
      return Number(read) >= id;
    },
    { timeoutMs, intervalMs: 20 },
  );
}

/**
 * Takes the delivery leader's lock on a connection of its own, so no instance leads until the
 * returned function releases it: what commits meanwhile waits in the outbox, as it does when a
 * leader takes over from one that died (the new one counts all of it as late, see README).
 * Waits up to `timeoutMs` for a leader still holding the lock (a previous test file's) to let go.
 */
export async function holdDeliveryLead(
  databaseUrl = process.env.DATABASE_URL!,
  timeoutMs = 10_000,
): Promise<() => Promise<void>> {
  const connection = new Client({ connectionString: databaseUrl });
  await connection.connect();
  try {
    await waitFor(
      'the delivery lock',
      async () => {
        const { rows } = await connection.query<{ locked: boolean }>(
          'SELECT pg_try_advisory_lock($1, $2) AS locked',
          LEADER_LOCK,
        );
        return rows[0].locked;
      },
      { timeoutMs, intervalMs: 50 },
    );
  } catch (error) {
    await connection.end();
    throw error;
  }
  // Ending the session releases the lock.
  return () => connection.end();
}

/**
 * The session that holds the delivery leader's lock on this database, described for a failure
 * message (backend pid, client address, since when), or undefined when nobody leads.
 */
export async function deliveryLeadHolder(dataSource: DataSource): Promise<string | undefined> {
  const [holder] = await dataSource.query<
    Array<{ pid: number; client: string; since: string; state: string; query: string }>
  >(
    `SELECT a.pid, coalesce(host(a.client_addr) || ':' || a.client_port, 'local') AS client,
            a.backend_start::text AS since, a.state,
            left(regexp_replace(a.query, '\\s+', ' ', 'g'), 120) AS query
     FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
     WHERE l.locktype = 'advisory' AND l.granted AND l.classid = $1 AND l.objid = $2
       AND l.objsubid = 2 AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())`,
    LEADER_LOCK,
  );
  return holder
    ? `backend pid ${holder.pid}, client ${holder.client}, connected since ${holder.since}, ` +
        `${holder.state}, last statement: ${holder.query}`
    : undefined;
}

/** Ends the session holding the delivery lead on this database (a test's own database only). */
export async function endDeliveryLeadHolder(dataSource: DataSource): Promise<void> {
  await dataSource.query(
    `SELECT pg_terminate_backend(l.pid) FROM pg_locks l
     WHERE l.locktype = 'advisory' AND l.granted AND l.classid = $1 AND l.objid = $2
       AND l.objsubid = 2 AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())`,
    LEADER_LOCK,
  );
}

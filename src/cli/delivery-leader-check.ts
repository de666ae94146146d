import { DataSource } from 'typeorm';
import { LEADER_LOCK } from '../database/advisory-lock';

/**
 * Whether some service instance leads delivery on this database right now (holds the lead's
 * advisory lock, from any host). Only a service pushes to open tabs: the command line stores
 * a notification and rings, and with no service running nobody hears the ring.
 */
export async function deliveryLeaderRuns(dataSource: DataSource): Promise<boolean> {
  const [{ runs }] = await dataSource.query<Array<{ runs: boolean }>>(
    `SELECT EXISTS (
       SELECT 1 FROM pg_locks
       WHERE locktype = 'advisory' AND granted AND classid = $1 AND objid = $2 AND objsubid = 2
         AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
     ) AS runs`,
    LEADER_LOCK,
  );
  return runs;
}

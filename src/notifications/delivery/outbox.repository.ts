import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { runPrepared } from '../../database/prepared';
import { CATCH_UP_SQL, READ_SQL, ROW_COLUMNS, TEXT_BYTES } from './outbox.sql';

/** Anything that runs a parameterised statement: the leader's own connection, or the pool. */
export interface Queryable {
  query<T>(text: string, values?: unknown[]): Promise<{ rows: T[] }>;
  /** A named statement: parsed and planned once per connection. */
  query<T>(statement: { name: string; text: string; values: unknown[] }): Promise<{ rows: T[] }>;
}

/** A notification row as the leader publishes it and catch-up replays it. */
export interface DeliveredRow {
  id: number;
  usuario_id: number;
  mensaje: string;
  leida: boolean;
  fecha: Date;
  tipo: string;
  url: string | null;
  datos: Record<string, unknown> | null;
}

/** What one read of the outbox hands the leader. */
export interface OutboxBatch {
  /** The outbox rows read, to delete once published. */
  entries: number[];
  /** Every notification id they carry, ascending. */
  notificaciones: number[];
  /** The notifications themselves, ascending, when few enough to come with the read. */
  rows: DeliveredRow[] | null;
  /** The unread count of every user a change named, from this read's snapshot. */
  counts: Array<[userId: number, unread: number]>;
  /** The notifications each delete removed, per user, in the order deleted. */
  deletions: Array<[userId: number, ids: number[]]>;
  /** The highest committed notification id in this read's snapshot. */
  newest: number | null;
}

/** The most outbox rows one read takes; a longer backlog is read in several. */
export const ENTRIES_PER_READ = 100;
/** The most notifications held in memory at once (a fan-out of 10,000 goes out in slices). */
export const ROWS_PER_SLICE = 1000;
/**
 * The most `mensaje` text one answer to the leader carries (a slice ends early past it). A
 * reply small enough to sit in the kernel's socket buffers lets every statement finish, and
 * the session go idle, even when the leader stops reading: PostgreSQL then ends a frozen
 * leader's session (`idle_session_timeout`) instead of waiting on it to read. It also bounds
 * the leader's memory whatever the notifications hold.
 */
export const BYTES_PER_SLICE = 1024 * 1024;

interface ReadRow {
  newest: string | null;
  late: number;
  entries: string[];
  notificaciones: string[];
  rows: Array<Omit<DeliveredRow, 'fecha'> & { fecha: string }> | null;
  counts: Array<[number, number]>;
  deletions: Array<[number, Array<number | string>]>;
}

/** The SQL of delivery: the leader's outbox reads and catch-up's query. */
@Injectable()
export class OutboxRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /**
   * Deletes the previous read's rows and reads the next batch (see READ_SQL); `publishedUpTo`
   * is the highest id published before this read, where its late rows take their place.
   */
  async read(
    connection: Queryable,
    published: readonly number[],
    floor: number,
    publishedUpTo: number,
  ): Promise<OutboxBatch> {
    const {
      rows: [row],
    } = await connection.query<ReadRow>({
      name: 'entregas.read',
      text: READ_SQL,
      values: [published, ENTRIES_PER_READ, floor, ROWS_PER_SLICE, BYTES_PER_SLICE, publishedUpTo],
    });
    return {
      entries: row.entries.map(Number),
      notificaciones: row.notificaciones.map(Number),
      rows: row.rows?.map((item) => ({ ...item, fecha: new Date(item.fecha) })) ?? null,
      counts: row.counts,
      deletions: row.deletions.map(([userId, ids]) => [userId, ids.map(Number)]),
      newest: row.newest === null ? null : Number(row.newest),
    };
  }

  /**
   * Sets up the leader's connection before its first read. The read is a named statement, planned
   * once per connection, and the connection lasts as long as the lead: from a fresh install's
   * empty table to millions of rows, with nothing that replans it until autovacuum next analyzes
   * the table. Planned while the table was small, the read scanned all of it, three times per
   * read; in the bench, whose table grows by 60,000 rows in a minute from empty, reads took
   * 150 to 900 ms by the end and deliveries fell a second behind. Every statement of the leader
   * has an index path, so sequential scans are simply off on this connection.
   */
  async configureSession(connection: Queryable): Promise<void> {
    await connection.query('SET enable_seqscan = off');
  }

  /** Deletes outbox rows already published (at a shutdown: no read follows). */
  async forget(connection: Queryable, published: readonly number[]): Promise<void> {
    await connection.query(`DELETE FROM entregas_pendientes WHERE id = ANY($1::bigint[])`, [
      published,
    ]);
  }

  /**
   * The first of these notifications (those still there), ascending, as many as fit in
   * BYTES_PER_SLICE of text, and always the first: the caller goes on after the last one.
   */
  async load(connection: Queryable, ids: readonly number[]): Promise<DeliveredRow[]> {
    const { rows } = await connection.query<Omit<DeliveredRow, 'id'> & { id: string }>(
      `SELECT ${ROW_COLUMNS} FROM (
         SELECT ${ROW_COLUMNS},
                sum(${TEXT_BYTES}) OVER (ORDER BY id) - ${TEXT_BYTES} AS before
         FROM notificaciones WHERE id = ANY($1::bigint[])
       ) slice
       WHERE before < $2
       ORDER BY id`,
      [ids, BYTES_PER_SLICE],
    );
    return rows.map((row) => ({ ...row, id: Number(row.id) }));
  }

  /**
   * The highest notification id ever handed out: a new leader cannot know what the previous one
   * published, nor what is still in flight, so it counts all of it as gone out already.
   */
  async highestIssued(connection: Queryable): Promise<number> {
    const { rows } = await connection.query<{ last: string | null }>(
      `SELECT greatest((SELECT max(id) FROM notificaciones),
                       pg_sequence_last_value(
                         pg_get_serial_sequence('notificaciones', 'id')::regclass)) AS last`,
    );
    return Number(rows[0].last ?? 0);
  }

  /**
   * The highest notification id no outbox row still carries: what a new leader takes as
   * published up to (what the previous one published and deleted; those it published but had
   * not deleted yet go out again).
   */
  async highestPublished(connection: Queryable): Promise<number> {
    const { rows } = await connection.query<{ last: string | null }>(
      // Ids below the lowest one the outbox holds are all published: one index lookup. Above it,
      // only the rows since then are checked, against the outbox's ids hashed once (checking
      // each row against every outbox array cost minutes behind a 10,000-recipient fan-out).
      `WITH pending AS MATERIALIZED (
         SELECT DISTINCT unnest(notificaciones) AS id FROM entregas_pendientes
       ), low AS (SELECT min(id) AS id FROM pending)
       SELECT CASE WHEN (SELECT id FROM low) IS NULL THEN (SELECT max(id) FROM notificaciones)
              ELSE greatest(
                (SELECT max(n.id) FROM notificaciones n WHERE n.id < (SELECT id FROM low)),
                (SELECT max(n.id) FROM notificaciones n
                 WHERE n.id > (SELECT id FROM low)
                   AND NOT EXISTS (SELECT 1 FROM pending p WHERE p.id = n.id)))
              END AS last`,
    );
    return Number(rows[0]?.last ?? 0);
  }

  /**
   * What a client that holds `since` may have missed, oldest first: at most `limit` + 1 rows,
   * `mensaje` null from the first past `maxBytes` of text (see CATCH_UP_SQL).
   */
  async missedSince(
    userId: number,
    since: number,
    limit: number,
    maxBytes: number,
  ): Promise<Array<Omit<DeliveredRow, 'mensaje'> & { mensaje: string | null }>> {
    const rows = await runPrepared<
      Omit<DeliveredRow, 'id' | 'mensaje'> & { id: string; mensaje: string | null }
    >(this.dataSource, 'entregas.catch-up', CATCH_UP_SQL, [userId, since, limit, maxBytes]);
    return rows.map((row) => ({ ...row, id: Number(row.id) }));
  }
}

import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { Coalescer } from '../common/coalescer';
import { QUERY_BOUND_MS } from '../database/bounded-client';
import { runPrepared } from '../database/prepared';
import { ListPosition } from './cursor';
import { OUTBOX_DELETIONS_OF_USER, OUTBOX_RECOUNT_OF_USER } from './delivery/outbox-writes';
import { Notificacion } from './notificacion.entity';
import type { DeliveredRow } from './delivery/outbox.repository';

// The statements are exported so that the benchmark's raw baselines (and the EXPLAIN it
// records) run exactly the SQL the service runs.

/** What a list page asks for; the statement text depends only on these. */
export interface ListShape {
  unread: boolean;
  /** Whether the page continues from a cursor. */
  after: boolean;
  /** Whether only one `tipo` is listed (the last parameter). */
  tipo?: boolean;
}

/** A stable name per statement text, for PostgreSQL to prepare it once per connection. */
export function listStatementName(shape: ListShape): string {
  return `notificaciones.list${shape.unread ? '-unread' : ''}${shape.after ? '-after' : ''}${shape.tipo ? '-tipo' : ''}`;
}

/**
 * A page of `$1`'s notifications, newest first, `$2` rows (the limit + 1, to know whether more
 * follow), after the cursor's `$3` fecha and `$4` id when `after`, of the `tipo` in the last
 * parameter when `tipo` (no index of its own: the page walks the same index and skips the other
 * kinds, where an index per kind would cost every mark-read); `position` is `fecha` with its
 * microseconds, for the next cursor. The unread count is COUNT_UNREAD_SQL's, asked alongside:
 * concurrent pages of one user then share one count, however large their backlog.
 */
export function listSql(shape: ListShape): string {
  let where = 'usuario_id = $1';
  if (shape.unread) where += ' AND NOT leida';
  // Spelled out rather than as a row comparison so both indexes can range-scan on fecha.
  if (shape.after)
    where += ' AND fecha <= $3::timestamptz AND (fecha < $3::timestamptz OR id < $4)';
  if (shape.tipo) where += ` AND tipo = $${shape.after ? 5 : 3}`;
  return `SELECT id, mensaje, leida, fecha, tipo, url, datos,
              to_char(fecha AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS position
       FROM notificaciones
       WHERE ${where}
       ORDER BY fecha DESC, id DESC
       LIMIT $2`;
}

/** The unread count of each user in `$1` (an int array), in that order. */
export const COUNT_UNREAD_SQL = `SELECT (SELECT count(*)::int FROM notificaciones
               WHERE usuario_id = u.id AND NOT leida) AS count
       FROM unnest($1::int[]) WITH ORDINALITY AS u(id, ord)
       ORDER BY u.ord`;

/**
 * Marks `$1`'s unread notifications read: those with an id in `$2` (a bigint array) when
 * `onlyIds`, else all. Answers how many changed and how many are left unread. With ids, that
 * is the count from before the UPDATE (its snapshot) less what changed. Without, none: every
 * row unread in the statement's snapshot is updated, and one it skips was changed first by a
 * concurrent statement (read or deleted: not unread either); so mark-all does not count the
 * user's rows again. Adds an outbox row in the same statement: the delivery leader recounts
 * once it commits and tells every socket.
 */
export function markReadSql(onlyIds: boolean): string {
  const unread = onlyIds
    ? `greatest(0, (SELECT count(*) FROM notificaciones WHERE usuario_id = $1 AND NOT leida)
                     - (SELECT count(*) FROM updated))::int`
    : '0';
  return `WITH updated AS (
         UPDATE notificaciones SET leida = true
         WHERE usuario_id = $1 AND NOT leida ${onlyIds ? 'AND id = ANY($2::bigint[])' : ''}
         RETURNING 1
       ), ${OUTBOX_RECOUNT_OF_USER}
       SELECT (SELECT count(*) FROM updated)::int AS updated, ${unread} AS unread`;
}

/**
 * Marks `$1`'s read notifications with an id in `$2` unread. Answers how many changed and how
 * many were unread before (the count sees the snapshot from before the UPDATE). Adds an outbox
 * row in the same statement, as mark-read does: the delivery leader recounts once it commits.
 */
const MARK_UNREAD_SQL = `WITH updated AS (
         UPDATE notificaciones SET leida = false
         WHERE usuario_id = $1 AND leida AND id = ANY($2::bigint[])
         RETURNING 1
       ), ${OUTBOX_RECOUNT_OF_USER}
       SELECT (SELECT count(*) FROM updated)::int AS updated,
              (SELECT count(*) FROM notificaciones WHERE usuario_id = $1 AND NOT leida)::int AS unread`;

/**
 * Deletes `$1`'s notifications: those with an id in `$2` when `onlyIds`, else every read one
 * ("clear read"). Answers how many went, how many of them were unread, and how many were unread
 * before; the outbox row names them, so every socket of the user hears of it.
 */
function deleteSql(onlyIds: boolean): string {
  return `WITH deleted AS (
         DELETE FROM notificaciones
         WHERE usuario_id = $1 AND ${onlyIds ? 'id = ANY($2::bigint[])' : 'leida'}
         RETURNING id, leida
       ), ${OUTBOX_DELETIONS_OF_USER}
       SELECT (SELECT count(*) FROM deleted)::int AS deleted,
              (SELECT count(*) FROM deleted WHERE NOT leida)::int AS deleted_unread,
              (SELECT count(*) FROM notificaciones WHERE usuario_id = $1 AND NOT leida)::int AS unread`;
}

/** Unread counts (handshakes, lists) in flight at once, and users per counting query. */
const COUNTS_IN_FLIGHT = 2;
const COUNTS_PER_QUERY = 500;

/** A listed notification, with `fecha` to the microsecond (`position`) for the cursor. */
export interface ListedNotificacion {
  notificacion: Notificacion;
  position: string;
}

/** A listed row: a notification's columns (bigint id as text), with its place in the list. */
type ListRow = Omit<DeliveredRow, 'id' | 'usuario_id'> & { id: string; position: string };

/** Which of the user's notifications a page lists. */
export interface ListFilter {
  unread: boolean;
  /** Older than this position (the cursor's). */
  after?: ListPosition;
  /** Only this kind. */
  tipo?: string;
}

/** The statements of one user's inbox: what it lists and counts, marks (un)read and deletes. */
@Injectable()
export class InboxRepository {
  /**
   * Every socket handshake and every list counts its user's unread: concurrent counts share a
   * query, and concurrent counts of one user share their row in it, so a user with a large
   * backlog listing in a loop costs one count at a time, not one per request.
   */
  private readonly unreadCounts = new Coalescer<number, number>(
    (userIds) => this.countUnreadOf(userIds),
    {
      maxInFlight: COUNTS_IN_FLIGHT,
      maxBatch: COUNTS_PER_QUERY,
      keyOf: (userId) => userId,
      timeoutMs: QUERY_BOUND_MS,
    },
  );

  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /** Up to `limit` of the user's notifications, newest first, as `filter` says. */
  async list(userId: number, limit: number, filter: ListFilter): Promise<ListedNotificacion[]> {
    const { after, tipo } = filter;
    const params: unknown[] = [userId, limit];
    if (after) params.push(after.fecha, after.id);
    if (tipo !== undefined) params.push(tipo);
    const shape = { unread: filter.unread, after: after !== undefined, tipo: tipo !== undefined };
    const rows = await runPrepared<ListRow>(
      this.dataSource,
      listStatementName(shape),
      listSql(shape),
      params,
    );
    return rows.map((row) => ({
      notificacion: Object.assign(new Notificacion(), {
        id: Number(row.id),
        usuarioId: userId,
        mensaje: row.mensaje,
        leida: row.leida,
        fecha: row.fecha,
        tipo: row.tipo,
        url: row.url,
        datos: row.datos,
      }),
      position: row.position,
    }));
  }

  /** How many of the user's notifications are unread (coalesced with concurrent counts). */
  countUnread(userId: number): Promise<number> {
    return this.unreadCounts.run(userId);
  }

  /**
   * Marks the user's unread notifications with these ids read (all of them when `ids` is
   * empty), queueing a recount for the delivery leader; answers how many changed and how
   * many are unread after.
   */
  async markRead(userId: number, ids: number[]): Promise<{ updated: number; unread: number }> {
    const onlyIds = ids.length > 0;
    const [row] = await runPrepared<{ updated: number; unread: number }>(
      this.dataSource,
      onlyIds ? 'notificaciones.mark-read-ids' : 'notificaciones.mark-read-all',
      markReadSql(onlyIds),
      onlyIds ? [userId, ids] : [userId],
    );
    return row;
  }

  /**
   * Marks the user's read notifications with these ids unread, queueing a recount for the
   * delivery leader; answers how many changed and how many are unread after.
   */
  async markUnread(userId: number, ids: number[]): Promise<{ updated: number; unread: number }> {
    const [row] = await runPrepared<{ updated: number; unread: number }>(
      this.dataSource,
      'notificaciones.mark-unread',
      MARK_UNREAD_SQL,
      [userId, ids],
    );
    return { updated: row.updated, unread: row.unread + row.updated };
  }

  /**
   * Deletes the user's notifications with these ids (every read one when `ids` is empty),
   * queueing their removal and a recount for the delivery leader; answers how many went and
   * how many are unread after.
   */
  async delete(userId: number, ids: number[]): Promise<{ deleted: number; unread: number }> {
    const onlyIds = ids.length > 0;
    const [row] = await runPrepared<{ deleted: number; deleted_unread: number; unread: number }>(
      this.dataSource,
      onlyIds ? 'notificaciones.delete-ids' : 'notificaciones.delete-read',
      deleteSql(onlyIds),
      onlyIds ? [userId, ids] : [userId],
    );
    return { deleted: row.deleted, unread: Math.max(0, row.unread - row.deleted_unread) };
  }

  /** The unread count of each of these users, in the same order: one query for many callers. */
  private async countUnreadOf(userIds: number[]): Promise<number[]> {
    const rows = await runPrepared<{ count: number }>(
      this.dataSource,
      'notificaciones.count-unread',
      COUNT_UNREAD_SQL,
      [userIds],
    );
    return rows.map((row) => row.count);
  }
}

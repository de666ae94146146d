import { OUTBOX_RECOUNT_OF_USER } from './delivery/outbox.repository';

// The statements of NotificationsService's hot paths, in one place so that the benchmark's raw
// baselines (and the EXPLAIN it records) run exactly the SQL the service runs.

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
 * `onlyIds`, else all. Answers how many changed and how many were unread before; the count sees
 * the snapshot from before the UPDATE, so the unread left is the difference. Adds an outbox row
 * in the same statement: the delivery leader recounts once it commits and tells every socket.
 */
export function markReadSql(onlyIds: boolean): string {
  return `WITH updated AS (
         UPDATE notificaciones SET leida = true
         WHERE usuario_id = $1 AND NOT leida ${onlyIds ? 'AND id = ANY($2::bigint[])' : ''}
         RETURNING 1
       ), ${OUTBOX_RECOUNT_OF_USER}
       SELECT (SELECT count(*) FROM updated)::int AS updated,
              (SELECT count(*) FROM notificaciones WHERE usuario_id = $1 AND NOT leida)::int AS unread`;
}

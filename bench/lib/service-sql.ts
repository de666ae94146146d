// The SQL of NotificationsService (list, countUnread, markRead), copied so that the baselines and
// the EXPLAIN of the bench run exactly what the service runs. Keep in step with the service.

export interface ListPosition {
  fecha: string;
  id: number;
}

/**
 * The page query with the user's unread count on every row: `$1` user, `$2` limit + 1, and with
 * a cursor `$3` fecha, `$4` id. An empty page is followed by COUNT_UNREAD_SQL.
 */
export function listSql(withCursor: boolean, unread = false): string {
  let where = 'usuario_id = $1';
  if (unread) where += ' AND NOT leida';
  if (withCursor) where += ' AND fecha <= $3::timestamptz AND (fecha < $3::timestamptz OR id < $4)';
  return `SELECT id, mensaje, leida, fecha,
              to_char(fecha AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS position,
              (SELECT count(*)::int FROM notificaciones
               WHERE usuario_id = $1 AND NOT leida) AS unread_count
       FROM notificaciones
       WHERE ${where}
       ORDER BY fecha DESC, id DESC
       LIMIT $2`;
}

/** One user's unread count (the service counts for many concurrent callers in one query). */
export const COUNT_UNREAD_SQL =
  'SELECT count(*)::int AS count FROM notificaciones WHERE usuario_id = $1 AND NOT leida';

/** The service's opaque cursor format, for the baseline to read and write the same cursors. */
export function encodeCursor(position: ListPosition): string {
  return Buffer.from(`${position.fecha}|${position.id}`, 'utf8').toString('base64url');
}

export function decodeCursor(cursor: string): ListPosition {
  const [fecha, id] = Buffer.from(cursor, 'base64url').toString('utf8').split('|');
  return { fecha, id: Number(id) };
}

/** NotificationsService.markRead with `ids: []`: every unread notification of `$1`. */
export const MARK_ALL_READ_SQL = `WITH updated AS (
         UPDATE notificaciones SET leida = true
         WHERE usuario_id = $1 AND NOT leida
         RETURNING 1
       )
       SELECT (SELECT count(*) FROM updated)::int AS updated,
              (SELECT count(*) FROM notificaciones WHERE usuario_id = $1 AND NOT leida)::int AS unread`;

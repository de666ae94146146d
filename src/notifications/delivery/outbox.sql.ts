// The statements of delivery that OutboxRepository runs, with why each is written as it is.

export const ROW_COLUMNS = 'id, usuario_id, mensaje, leida, fecha, tipo, url, datos';

/**
 * The text a row brings into memory, for the byte budgets: `mensaje` and, when there, `url` and
 * `datos` (so a budget stays a budget whatever a sender puts in them).
 */
export const TEXT_BYTES = `(octet_length(mensaje) + coalesce(octet_length(url), 0)
                     + coalesce(octet_length(datos::text), 0))`;

/**
 * One read of the outbox by the leader, in one snapshot and one round trip:
 * - deletes the rows of the previous read (`$1`), now published (dying before that only means
 *   the next leader publishes them again: a duplicate, never a loss);
 * - reads the oldest rows, at most `$2`;
 * - records as late (`entregas_tardias`, committed when the statement returns, so before any of
 *   them is published) every notification that something with a higher id may have committed
 *   or gone out before. Its watermark bounds every id that did: `$3` (the highest id committed
 *   at the previous read, and so everything published until now), the highest id of every
 *   *other* row of this read (a statement's own ids commit together and go out in id order),
 *   and, when more rows wait beyond this read, the highest id committed now; and its place in
 *   the order things went out (`posicion`): right after `$6`, the highest id published before
 *   this read, or at its own id when that is higher (a read goes out in id order);
 * - raises how far the leader has read (`entregas_progreso`) to the highest id committed in
 *   this snapshot, before anything of it is published: catch-up replays nothing above it (its
 *   one row found by `unica`, an index path, as the leader's connection needs; see below);
 * - counts the unread of every user a change named (the change is visible: its outbox row is);
 * - returns the notifications themselves when there are at most `$4` carrying at most `$5`
 *   bytes of text.
 * It commits without waiting for its WAL to reach the disk unless it recorded a late row (which
 * must be durable before it goes out): all else it writes is the deletion of rows already
 * published, which a crash of PostgreSQL can only undo into a second push, never a loss.
 * Notifications are looked up by `id = ANY(<array>)` only, so that an index probe is always a
 * way to run it. Joined to an `unnest()` (estimated at ten rows per array), they were planned as
 * hash joins over the whole table once it was large; and the leader's connection runs with
 * sequential scans off (see configureSession), because it plans this statement once and keeps
 * the plan while the table grows.
 */
export const READ_SQL = `WITH gone AS (
    DELETE FROM entregas_pendientes WHERE id = ANY($1::bigint[])
  ), fetched AS (
    SELECT id, notificaciones, recuentos, eliminadas FROM entregas_pendientes
    WHERE id <> ALL($1::bigint[])
    ORDER BY id
    LIMIT $2::int + 1
  ), batch AS (
    SELECT id, coalesce(notificaciones, '{}') AS notificaciones, recuentos, eliminadas,
           (SELECT max(x) FROM unnest(notificaciones) AS x) AS top
    FROM fetched
    ORDER BY id
    LIMIT $2::int
  ), snapshot AS (
    SELECT (SELECT max(id) FROM notificaciones) AS newest,
           (SELECT count(*) FROM fetched) > $2::int AS more
  ), progress AS (
    UPDATE entregas_progreso SET leido_hasta = s.newest
    FROM snapshot s WHERE unica AND s.newest > leido_hasta
  ), marked AS (
    SELECT b.notificaciones,
           greatest($3::bigint,
                    max(b.top) OVER (ORDER BY b.id ROWS BETWEEN UNBOUNDED PRECEDING
                                     AND UNBOUNDED FOLLOWING EXCLUDE CURRENT ROW),
                    CASE WHEN s.more THEN s.newest END) AS watermark
    FROM batch b CROSS JOIN snapshot s
  ), late_ids AS (
    SELECT l.id, m.watermark
    FROM marked m CROSS JOIN LATERAL unnest(m.notificaciones) AS l(id)
    WHERE l.id < m.watermark
  ), late AS (
    INSERT INTO entregas_tardias (notificacion_id, usuario_id, watermark, posicion)
    SELECT n.id, n.usuario_id, l.watermark, greatest(n.id, $6::bigint)
    FROM notificaciones n JOIN late_ids l ON l.id = n.id
    WHERE n.id = ANY((SELECT array_agg(id) FROM late_ids)::bigint[])
    ORDER BY n.id
    ON CONFLICT (notificacion_id)
      DO UPDATE SET watermark = greatest(entregas_tardias.watermark, excluded.watermark)
    RETURNING 1
  ), ids AS (
    SELECT coalesce(array_agg(DISTINCT x ORDER BY x), '{}') AS list
    FROM batch CROSS JOIN LATERAL unnest(notificaciones) AS x
  )
  SELECT s.newest,
         (SELECT count(*) FROM late)::int AS late,
         set_config('synchronous_commit',
                    CASE WHEN (SELECT count(*) FROM late) > 0
                         THEN current_setting('synchronous_commit') ELSE 'off' END,
                    true) AS durability,
         (SELECT coalesce(array_agg(id ORDER BY id), '{}') FROM batch) AS entries,
         (SELECT list FROM ids) AS notificaciones,
         CASE WHEN cardinality((SELECT list FROM ids)) <= $4::int
                   AND (SELECT coalesce(sum(${TEXT_BYTES}), 0) FROM notificaciones n
                        WHERE n.id = ANY((SELECT list FROM ids)::bigint[])) <= $5::bigint THEN
           (SELECT coalesce(json_agg(json_build_object(
                     'id', n.id, 'usuario_id', n.usuario_id, 'mensaje', n.mensaje,
                     'leida', n.leida, 'fecha', n.fecha, 'tipo', n.tipo, 'url', n.url,
                     'datos', n.datos) ORDER BY n.id), '[]')
            FROM notificaciones n WHERE n.id = ANY((SELECT list FROM ids)::bigint[]))
         END AS rows,
         (SELECT coalesce(json_agg(json_build_array(u.id,
                   (SELECT count(*) FROM notificaciones
                    WHERE usuario_id = u.id AND NOT leida))), '[]')
          FROM (SELECT DISTINCT unnest(recuentos) AS id FROM batch) u) AS counts,
         (SELECT coalesce(json_agg(json_build_array(recuentos[1], eliminadas) ORDER BY id), '[]')
          FROM batch WHERE cardinality(eliminadas) > 0) AS deletions
  FROM snapshot s`;

/**
 * What a reconnecting client may have missed, in the order it went out live: the user's rows
 * with an id above `$2`, and those below it delivered (or committed) after it (a late row
 * whose watermark is at least `$2`). Only rows the leader has read: below an id it has not
 * read yet, a read in progress may be recording a late row that this query cannot see, and
 * replaying the newer id would move the client's `since` past it for good. What is left out
 * arrives live (the socket joined its room first). A late row sorts at its `posicion` (after the rows with
 * an id up to it), late rows among themselves in the order recorded. At most `$3` + 1 rows (to know
 * whether more wait), and `mensaje` only while the text so far stays under `$4` bytes (null
 * after: the reader stops there), so a catch-up's memory is bounded whatever the rows hold.
 */
export const CATCH_UP_SQL = `SELECT id, usuario_id, leida, fecha, tipo, url, datos,
         CASE WHEN before < $4 THEN mensaje END AS mensaje
  FROM (
    SELECT missed.*,
           sum(${TEXT_BYTES}) OVER (ORDER BY position, orden) - ${TEXT_BYTES} AS before
    FROM (
      SELECT n.id, n.usuario_id, n.mensaje, n.leida, n.fecha, n.tipo, n.url, n.datos,
             coalesce(t.posicion, n.id) AS position, coalesce(t.orden, 0) AS orden
      FROM (SELECT * FROM notificaciones
            WHERE usuario_id = $1 AND id > $2 AND NOT silenciada
              AND id <= (SELECT leido_hasta FROM entregas_progreso)
            ORDER BY id LIMIT $3 + 1) n
      LEFT JOIN entregas_tardias t ON t.notificacion_id = n.id
      UNION ALL
      SELECT n.id, n.usuario_id, n.mensaje, n.leida, n.fecha, n.tipo, n.url, n.datos,
             t.posicion, t.orden
      FROM entregas_tardias t JOIN notificaciones n ON n.id = t.notificacion_id
      WHERE t.usuario_id = $1 AND t.watermark >= $2 AND t.notificacion_id < $2
      ORDER BY position, orden
      LIMIT $3 + 1
    ) missed
  ) budgeted
  ORDER BY position, orden`;

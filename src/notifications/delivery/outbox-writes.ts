// What the statements that change notifications add to the outbox, in the same statement, so
// the outbox row commits or rolls back with the change. OutboxRepository reads them back.

/**
 * SQL fragment for the CTE list of a statement that inserted notifications into `inserted`: one
 * outbox row carrying their ids, in the same statement, so it commits or rolls back with them.
 * Those stored read (their user silenced their `tipo`) are left out: they are never pushed.
 */
export const OUTBOX_OF_INSERTED = `outbox AS (
           INSERT INTO entregas_pendientes (notificaciones)
           SELECT array_agg(id) FROM inserted WHERE NOT leida HAVING count(*) > 0
         )`;

/**
 * SQL fragment for the CTE list of a statement that deleted `$1`'s notifications into `deleted`
 * (with their `id`): one outbox row that recounts and names them, committed with the delete.
 */
export const OUTBOX_DELETIONS_OF_USER = `outbox AS (
           INSERT INTO entregas_pendientes (recuentos, eliminadas)
           SELECT ARRAY[$1::int], coalesce(array_agg(id ORDER BY id), '{}') FROM deleted
         )`;

/** SQL fragment for the CTE list of a statement that changed `$1`'s unread count. */
export const OUTBOX_RECOUNT_OF_USER = `outbox AS (
           INSERT INTO entregas_pendientes (recuentos) VALUES (ARRAY[$1::int])
         )`;

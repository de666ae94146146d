import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { OUTBOX_DELETIONS_OF_USER, OUTBOX_RECOUNT_OF_USER } from './delivery/outbox.repository';

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
 * Deletes `$1`'s notifications: those with an id in `$2`, or every read one ("clear read") when
 * `onlyIds` is false. Answers how many went, how many of them were unread, and how many were
 * unread before; the outbox row names them, so every socket of the user hears of it.
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

/** The SQL of what a user does to their own inbox besides reading it: mark unread, delete. */
@Injectable()
export class InboxRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /** Marks these of the user's notifications unread; how many changed and the unread after. */
  async markUnread(userId: number, ids: number[]): Promise<{ updated: number; unread: number }> {
    const [row] = await this.dataSource.query<Array<{ updated: number; unread: number }>>(
      MARK_UNREAD_SQL,
      [userId, ids],
    );
    return { updated: row.updated, unread: row.unread + row.updated };
  }

  /** Deletes these of the user's notifications (or, with none, every read one). */
  async delete(userId: number, ids: number[]): Promise<{ deleted: number; unread: number }> {
    const [row] = await this.dataSource.query<
      Array<{ deleted: number; deleted_unread: number; unread: number }>
    >(deleteSql(ids.length > 0), ids.length > 0 ? [userId, ids] : [userId]);
    return { deleted: row.deleted, unread: Math.max(0, row.unread - row.deleted_unread) };
  }
}

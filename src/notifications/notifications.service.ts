import { BadRequestException, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import { User } from '../users/user.entity';
import { AfterCommit } from './after-commit';
import { decodeCursor, encodeCursor } from './cursor';
import { MarkReadResult, NotificacionJson, NotificacionMensajeEvent } from './events';
import { mensajeProblem } from './mensaje';
import { Notificacion } from './notificacion.entity';
import { NotificationsPublisher } from './notifications.publisher';

export interface NotifyOptions {
  /** A manager inside the caller's transaction: the row joins it, the emit waits for its commit. */
  manager?: EntityManager;
}

export interface ListOptions {
  limit: number;
  cursor?: string;
  unread?: boolean;
}

export interface NotificationPage {
  notifications: NotificacionJson[];
  unread_count: number;
  next_cursor: string | null;
}

/** The most rows a reconnecting client is replayed; past that it lists. */
export const CATCH_UP_LIMIT = 1000;

const PURGE_BATCH = 5000;
const FOREIGN_KEY_VIOLATION = '23503';

interface Row {
  id: string;
  usuario_id: number;
  mensaje: string;
  leida: boolean;
  fecha: Date;
}

interface ListRow extends Row {
  /** `fecha` with its microseconds, for the cursor. */
  position: string;
}

const RETURNED = 'id, usuario_id, mensaje, leida, fecha';

function toEntity(row: Row, user?: User): Notificacion {
  return Object.assign(new Notificacion(), {
    id: Number(row.id),
    usuarioId: row.usuario_id,
    usuario: user,
    mensaje: row.mensaje,
    leida: row.leida,
    fecha: row.fecha,
  });
}

/** The JSON shape of a notification, for the list and for socket payloads. */
export function toJson(
  notificacion: Pick<Notificacion, 'id' | 'mensaje' | 'leida' | 'fecha'>,
): NotificacionJson {
  return {
    id: notificacion.id,
    mensaje: notificacion.mensaje,
    leida: notificacion.leida,
    fecha: notificacion.fecha.toISOString(),
  };
}

function messageEvent(notificacion: Notificacion): NotificacionMensajeEvent {
  return {
    type: 'notificacion_mensaje',
    message: notificacion.mensaje,
    notificacion: toJson(notificacion),
  };
}

function assertMensaje(mensaje: string): void {
  const problem = mensajeProblem(mensaje);
  if (problem) throw new BadRequestException(problem);
}

function isForeignKeyViolation(error: unknown): boolean {
  return (error as { driverError?: { code?: string } }).driverError?.code === FOREIGN_KEY_VIOLATION;
}

/** The only reader and writer of notifications. */
@Injectable()
export class NotificationsService {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly publisher: NotificationsPublisher,
    private readonly afterCommit: AfterCommit,
  ) {}

  /** Stores a notification for one active user, then emits it to `user_<id>` (after commit). */
  async notificarUsuario(
    usuario: User | number,
    mensaje: string,
    opts: NotifyOptions = {},
  ): Promise<Notificacion> {
    const [created] = await this.notificarUsuarios([usuario], mensaje, opts);
    return created;
  }

  /**
   * Stores one notification per distinct user in a single INSERT, all or nothing: an unknown or
   * inactive user is a 400 naming the ids, and nothing is stored. Returned in the order given.
   */
  async notificarUsuarios(
    usuarios: Array<User | number>,
    mensaje: string,
    opts: NotifyOptions = {},
  ): Promise<Notificacion[]> {
    assertMensaje(mensaje);
    const users = new Map<number, User | undefined>();
    for (const usuario of usuarios) {
      const id = typeof usuario === 'number' ? usuario : usuario.id;
      if (!users.has(id) || typeof usuario !== 'number')
        users.set(id, typeof usuario === 'number' ? undefined : usuario);
    }
    const ids = [...users.keys()];
    if (ids.length === 0) return [];
    let rows: Row[];
    try {
      // The count guard makes the INSERT all-or-nothing without a transaction of our own.
      rows = await this.query<Row>(
        opts.manager,
        `WITH wanted AS (
           SELECT id, ord FROM unnest($1::int[]) WITH ORDINALITY AS t(id, ord)
         ), found AS (
           SELECT w.id, w.ord FROM wanted w JOIN users u ON u.id = w.id AND u.is_active
         )
         INSERT INTO notificaciones (usuario_id, mensaje)
         SELECT id, $2 FROM found
         WHERE (SELECT count(*) FROM found) = cardinality($1::int[])
         ORDER BY ord
         RETURNING ${RETURNED}`,
        [ids, mensaje],
      );
    } catch (error) {
      // A user deleted between the check and the insert.
      if (isForeignKeyViolation(error)) rows = [];
      else throw error;
    }
    if (rows.length !== ids.length) {
      throw new BadRequestException(
        `unknown or inactive usuarios: ${(await this.missingUsers(ids)).join(', ')}`,
      );
    }
    const byUser = new Map(rows.map((row) => [row.usuario_id, row]));
    const created = ids.map((id) => toEntity(byUser.get(id)!, users.get(id)));
    this.afterCommit.run(opts.manager, () => this.emitCreated(created));
    return created;
  }

  /** Stores and emits one notification for every active staff user (none is fine). */
  async notificarStaff(mensaje: string, opts: NotifyOptions = {}): Promise<Notificacion[]> {
    assertMensaje(mensaje);
    const rows = await this.query<Row>(
      opts.manager,
      `INSERT INTO notificaciones (usuario_id, mensaje)
       SELECT id, $1 FROM users WHERE is_staff AND is_active ORDER BY id
       RETURNING ${RETURNED}`,
      [mensaje],
    );
    const created = rows.map((row) => toEntity(row));
    this.afterCommit.run(opts.manager, () => this.emitCreated(created));
    return created;
  }

  /** A page of the user's notifications, newest first, with their total unread count. */
  async list(userId: number, options: ListOptions): Promise<NotificationPage> {
    const after = options.cursor === undefined ? undefined : decodeCursor(options.cursor);
    const params: unknown[] = [userId, options.limit + 1];
    let where = 'usuario_id = $1';
    if (options.unread) where += ' AND NOT leida';
    if (after) {
      params.push(after.fecha, after.id);
      // Spelled out rather than as a row comparison so both indexes can range-scan on fecha.
      where += ' AND fecha <= $3::timestamptz AND (fecha < $3::timestamptz OR id < $4)';
    }
    const [rows, unreadCount] = await Promise.all([
      this.dataSource.query<ListRow[]>(
        `SELECT id, mensaje, leida, fecha,
                to_char(fecha AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS position
         FROM notificaciones
         WHERE ${where}
         ORDER BY fecha DESC, id DESC
         LIMIT $2`,
        params,
      ),
      this.countUnread(userId),
    ]);
    const page = rows.slice(0, options.limit);
    const last = page.at(-1);
    return {
      notifications: page.map((row) => toJson(toEntity(row))),
      unread_count: unreadCount,
      next_cursor:
        rows.length > options.limit && last
          ? encodeCursor({ fecha: last.position, id: Number(last.id) })
          : null,
    };
  }

  /** How many of the user's notifications are unread. */
  async countUnread(userId: number): Promise<number> {
    const [row] = await this.dataSource.query<Array<{ count: number }>>(
      'SELECT count(*)::int AS count FROM notificaciones WHERE usuario_id = $1 AND NOT leida',
      [userId],
    );
    return row.count;
  }

  /**
   * Marks the user's notifications read: those ids (others' ids are ignored), or all when `ids`
   * is empty. Then tells every socket of the user the new unread count.
   */
  async markRead(userId: number, ids: number[]): Promise<MarkReadResult> {
    const only = ids.length > 0 ? 'AND id = ANY($2::bigint[])' : '';
    // The outer count sees the snapshot from before the UPDATE, so subtract what it changed.
    const [row] = await this.dataSource.query<Array<{ updated: number; unread: number }>>(
      `WITH updated AS (
         UPDATE notificaciones SET leida = true
         WHERE usuario_id = $1 AND NOT leida ${only}
         RETURNING 1
       )
       SELECT (SELECT count(*) FROM updated)::int AS updated,
              (SELECT count(*) FROM notificaciones WHERE usuario_id = $1 AND NOT leida)::int AS unread`,
      ids.length > 0 ? [userId, ids] : [userId],
    );
    const result = { updated: row.updated, unread_count: Math.max(0, row.unread - row.updated) };
    this.publisher.toUser(userId, 'unread_count', { unread_count: result.unread_count });
    return result;
  }

  /** The user's notifications with an id above `sinceId`, oldest first, at most `CATCH_UP_LIMIT`. */
  async listSince(userId: number, sinceId: number): Promise<NotificacionJson[]> {
    const rows = await this.dataSource.query<Row[]>(
      `SELECT ${RETURNED} FROM notificaciones
       WHERE usuario_id = $1 AND id > $2
       ORDER BY id
       LIMIT ${CATCH_UP_LIMIT}`,
      [userId, sinceId],
    );
    return rows.map((row) => toJson(toEntity(row)));
  }

  /** Deletes notifications older than `days` days, in batches; returns how many. */
  async purgeOlderThan(days: number): Promise<number> {
    let deleted = 0;
    for (;;) {
      const [row] = await this.dataSource.query<Array<{ count: number }>>(
        `WITH doomed AS (
           SELECT id FROM notificaciones
           WHERE fecha < now() - make_interval(days => $1)
           LIMIT ${PURGE_BATCH}
           FOR UPDATE SKIP LOCKED
         ), gone AS (
           DELETE FROM notificaciones n USING doomed d WHERE n.id = d.id RETURNING 1
         )
         SELECT count(*)::int AS count FROM gone`,
        [days],
      );
      deleted += row.count;
      if (row.count < PURGE_BATCH) return deleted;
    }
  }

  private async missingUsers(ids: number[]): Promise<number[]> {
    const rows = await this.dataSource.query<Array<{ id: number }>>(
      'SELECT id FROM users WHERE id = ANY($1::int[]) AND is_active',
      [ids],
    );
    const found = new Set(rows.map((row) => row.id));
    return ids.filter((id) => !found.has(id));
  }

  private query<T>(
    manager: EntityManager | undefined,
    sql: string,
    params: unknown[],
  ): Promise<T[]> {
    return (manager ?? this.dataSource.manager).query<T[]>(sql, params);
  }

  private emitCreated(created: Notificacion[]): void {
    for (const notificacion of created) {
      this.publisher.toUser(
        notificacion.usuarioId,
        'notificacion_mensaje',
        messageEvent(notificacion),
      );
    }
  }
}

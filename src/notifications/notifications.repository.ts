import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import { Coalescer } from '../common/coalescer';
import { LARGE_STATEMENT_BOUNDS, QUERY_BOUND_MS, withTimeouts } from '../database/bounded-client';
import { isForeignKeyViolation } from '../database/errors';
import { runPrepared } from '../database/prepared';
import { toUser } from '../users/users.repository';
import { OUTBOX_OF_INSERTED } from './delivery/outbox-writes';
import { Notificacion } from './notificacion.entity';
import { NotificationContent } from './notification-fields';

/** Single notifications in flight at once, and the most rows one coalesced INSERT carries. */
const SINGLES_IN_FLIGHT = 2;
const SINGLES_PER_INSERT = 500;
const PURGE_BATCH = 5000;
/** Recipients from which a fan-out runs with the bounds of a large statement. */
const LARGE_FAN_OUT = 1000;

/**
 * A new row with its user, so its string form names the user even when given only an id.
 * Without what the sender wrote: the caller has it, and a fan-out would bring it back per row.
 */
interface CreatedRow {
  id: string;
  usuario_id: number;
  leida: boolean;
  fecha: Date;
  username: string;
  is_staff: boolean;
}

interface Single {
  userId: number;
  content: NotificationContent;
}

const RETURNED = 'id, usuario_id, leida, fecha';

/**
 * The recipient's preferences, joined into the INSERT itself (no query of its own): a
 * notification of a `tipo` its user silenced is stored already read, and marked `silenciada`
 * so that neither the outbox (see OUTBOX_OF_INSERTED) nor catch-up ever pushes it.
 */
const PREFERENCES_OF = (userId: string) => `LEFT JOIN preferencias p ON p.usuario_id = ${userId}`;
/** Whether the row being inserted is of a `tipo` its user silenced (the `tipo` is a parameter). */
const MUTED_OF = (tipo: string) => `coalesce(${tipo} = ANY(p.silenciados), false)`;

/** `datos` as the INSERTs take it: JSON text, cast to jsonb there. */
function datosParam(content: NotificationContent): string | null {
  return content.datos === null ? null : JSON.stringify(content.datos);
}

/** A stored notification with its user: they passed the `is_active` check of the INSERT. */
function toEntity(row: CreatedRow, content: NotificationContent): Notificacion {
  return Object.assign(new Notificacion(), {
    id: Number(row.id),
    usuarioId: row.usuario_id,
    usuario: toUser({ id: row.usuario_id, username: row.username, is_staff: row.is_staff }),
    mensaje: content.mensaje,
    leida: row.leida,
    fecha: row.fecha,
    tipo: content.tipo,
    url: content.url,
    datos: content.datos,
  });
}

/**
 * The statements that store and delete notifications. Every INSERT adds its outbox row in the
 * same statement (OUTBOX_OF_INSERTED), so the delivery leader sees exactly what committed, and
 * reads its recipients' preferences in the same statement too (a silenced `tipo` is stored read).
 */
@Injectable()
export class NotificationsRepository {
  /**
   * Single notifications outside a caller's transaction (the common case: one order update for
   * one user) share INSERTs: under load one statement and one commit carry many, each still
   * all-or-nothing for its own caller.
   */
  private readonly singles = new Coalescer<Single, Notificacion | undefined>(
    (batch) => this.insertSingles(batch),
    { maxInFlight: SINGLES_IN_FLIGHT, maxBatch: SINGLES_PER_INSERT, timeoutMs: QUERY_BOUND_MS },
  );

  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /** Stores one notification for an active user (coalesced); undefined when it is not one. */
  insertOne(userId: number, content: NotificationContent): Promise<Notificacion | undefined> {
    return this.singles.run({ userId, content });
  }

  /**
   * Stores one notification per id, all or none: none when any id is not an active user (or
   * one is deleted meanwhile). Rows come back in no particular order.
   */
  async insertForAll(
    ids: number[],
    content: NotificationContent,
    manager?: EntityManager,
  ): Promise<{ created: Notificacion[]; failed: boolean }> {
    try {
      // The count guard makes the INSERT all-or-nothing without a transaction of our own.
      const rows = await this.withRoomFor(ids.length, manager, (on) =>
        runPrepared<CreatedRow>(
          this.dataSource,
          'notificaciones.insert-all-or-none',
          `WITH found AS (
           SELECT id, username, is_staff FROM users WHERE id = ANY($1::int[]) AND is_active
         ), inserted AS (
           INSERT INTO notificaciones (usuario_id, mensaje, tipo, url, datos, leida, silenciada)
           SELECT t.id, $2, $3::text, $4, $5::jsonb, ${MUTED_OF('$3::text')}, ${MUTED_OF('$3::text')}
           FROM unnest($1::int[]) AS t(id) ${PREFERENCES_OF('t.id')}
           WHERE (SELECT count(*) FROM found) = cardinality($1::int[])
           RETURNING ${RETURNED}
         ), ${OUTBOX_OF_INSERTED}
         SELECT i.*, f.username, f.is_staff FROM inserted i JOIN found f ON f.id = i.usuario_id`,
          [ids, content.mensaje, content.tipo, content.url, datosParam(content)],
          on,
        ),
      );
      return { created: rows.map((row) => toEntity(row, content)), failed: false };
    } catch (error) {
      // A user deleted between the check and the insert: the statement (and with it a caller's
      // transaction) failed.
      if (!isForeignKeyViolation(error)) throw error;
      return { created: [], failed: true };
    }
  }

  /** Stores one notification for every active staff user, by user id. */
  async insertForStaff(
    content: NotificationContent,
    manager?: EntityManager,
  ): Promise<Notificacion[]> {
    const rows = await runPrepared<CreatedRow>(
      this.dataSource,
      'notificaciones.insert-staff',
      `WITH staff AS (
         SELECT id, username, is_staff FROM users WHERE is_staff AND is_active
       ), inserted AS (
         INSERT INTO notificaciones (usuario_id, mensaje, tipo, url, datos, leida, silenciada)
         SELECT s.id, $1, $2::text, $3, $4::jsonb, ${MUTED_OF('$2::text')}, ${MUTED_OF('$2::text')}
         FROM staff s ${PREFERENCES_OF('s.id')}
         ORDER BY s.id
         RETURNING ${RETURNED}
       ), ${OUTBOX_OF_INSERTED}
       SELECT i.*, s.username, s.is_staff FROM inserted i JOIN staff s ON s.id = i.usuario_id
       ORDER BY i.usuario_id`,
      [content.mensaje, content.tipo, content.url, datosParam(content)],
      manager,
    );
    return rows.map((row) => toEntity(row, content));
  }

  /**
   * Stores already-dated notifications in one INSERT, with no outbox row; answers how many.
   * Without a `tipo` a row is `general`.
   */
  async insertDated(
    rows: ReadonlyArray<
      Pick<Notificacion, 'usuarioId' | 'mensaje' | 'leida' | 'fecha'> &
        Partial<Pick<Notificacion, 'tipo' | 'url'>>
    >,
  ): Promise<number> {
    const [row] = await runPrepared<{ count: number }>(
      this.dataSource,
      'notificaciones.insert-dated',
      `WITH inserted AS (
         INSERT INTO notificaciones (usuario_id, mensaje, leida, fecha, tipo, url)
         SELECT usuario_id, mensaje, leida, fecha, coalesce(tipo, 'general'), url
         FROM unnest($1::int[], $2::text[], $3::boolean[], $4::timestamptz[], $5::text[],
                     $6::text[]) AS t(usuario_id, mensaje, leida, fecha, tipo, url)
         RETURNING 1
       )
       SELECT count(*)::int AS count FROM inserted`,
      [
        rows.map((item) => item.usuarioId),
        rows.map((item) => item.mensaje),
        rows.map((item) => item.leida),
        rows.map((item) => item.fecha.toISOString()),
        rows.map((item) => item.tipo ?? null),
        rows.map((item) => item.url ?? null),
      ],
    );
    return row.count;
  }

  /** Deletes the notifications older than `days` days, in batches; answers how many. */
  async deleteOlderThan(days: number): Promise<number> {
    let deleted = 0;
    for (;;) {
      const [row] = await runPrepared<{ count: number }>(
        this.dataSource,
        'notificaciones.delete-older-than',
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

  /**
   * One INSERT for a batch of single notifications (any users, any messages). Answers, per
   * input and in order, its row, or undefined when its user is unknown or inactive.
   */
  private async insertSingles(batch: Single[]): Promise<Array<Notificacion | undefined>> {
    let rows: CreatedRow[];
    try {
      rows = await runPrepared<CreatedRow>(
        this.dataSource,
        'notificaciones.insert-singles',
        `WITH wanted AS (
           SELECT * FROM unnest($1::int[], $2::text[], $3::text[], $4::text[], $5::text[])
             WITH ORDINALITY AS t(usuario_id, mensaje, tipo, url, datos, ord)
         ), inserted AS (
           INSERT INTO notificaciones (usuario_id, mensaje, tipo, url, datos, leida, silenciada)
           SELECT w.usuario_id, w.mensaje, w.tipo, w.url, w.datos::jsonb, m.muted, m.muted
           FROM wanted w JOIN users u ON u.id = w.usuario_id AND u.is_active
           ${PREFERENCES_OF('w.usuario_id')}
           CROSS JOIN LATERAL (SELECT ${MUTED_OF('w.tipo')} AS muted) m
           ORDER BY w.ord
           RETURNING ${RETURNED}
         ), ${OUTBOX_OF_INSERTED}
         SELECT i.*, u.username, u.is_staff
         FROM inserted i JOIN users u ON u.id = i.usuario_id
         ORDER BY i.id`,
        [
          batch.map((single) => single.userId),
          batch.map((single) => single.content.mensaje),
          batch.map((single) => single.content.tipo),
          batch.map((single) => single.content.url),
          batch.map((single) => datosParam(single.content)),
        ],
      );
    } catch (error) {
      // A user deleted mid-statement fails the whole batch: retry each on its own.
      if (!isForeignKeyViolation(error)) throw error;
      if (batch.length === 1) return [undefined];
      return (await Promise.all(batch.map((single) => this.insertSingles([single])))).flat();
    }
    // Identity ids follow the ORDER BY, so rows come back in input order, skipping the inputs
    // whose user was not found (every input of that user, since they share the same answer).
    let next = 0;
    return batch.map((single) =>
      rows[next]?.usuario_id === single.userId ? toEntity(rows[next++], single.content) : undefined,
    );
  }

  /**
   * Runs a fan-out's statement on `manager` (a caller's transaction keeps its own bounds), or,
   * for a large one, on a connection of its own with the larger bounds such a statement needs.
   */
  private async withRoomFor<T>(
    recipients: number,
    manager: EntityManager | undefined,
    run: (on: EntityManager | undefined) => Promise<T>,
  ): Promise<T> {
    if (manager || recipients < LARGE_FAN_OUT) return run(manager);
    const runner = this.dataSource.createQueryRunner();
    try {
      await runner.connect();
      return await withTimeouts(runner, LARGE_STATEMENT_BOUNDS, () => run(runner.manager));
    } finally {
      await runner.release();
    }
  }
}

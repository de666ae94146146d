import { BadRequestException, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import { Coalescer } from '../common/coalescer';
import { Admission } from '../limits/admission';
import { MetricsService } from '../metrics/metrics.service';
import { User } from '../users/user.entity';
import { QUERY_BOUND_MS } from '../database/bounded-client';
import { runPrepared } from '../database/prepared';
import { AfterCommit } from './after-commit';
import { decodeCursor, encodeCursor } from './cursor';
import { Doorbell } from './delivery/doorbell';
import { OUTBOX_OF_INSERTED, OutboxRepository } from './delivery/outbox.repository';
import { MarkReadResult, NotificacionJson } from './events';
import { mensajeProblem } from './mensaje';
import { Datos, datosProblem, TIPO_DEFAULT, tipoProblem, urlProblem } from './notification-fields';
import { Notificacion } from './notificacion.entity';
import { COUNT_UNREAD_SQL, listSql, listStatementName, markReadSql } from './notifications.sql';

export interface NotifyOptions {
  /** A manager inside the caller's transaction: the row joins it, the emit waits for its commit. */
  manager?: EntityManager;
  /** What kind of notification it is (1..50 of a-z 0-9 _ -); `general` when not given. */
  tipo?: string;
  /** Where the frontend goes when it is clicked: a path starting with `/`, or an http(s) URL. */
  url?: string | null;
  /** A JSON object for the frontend's own use, at most 4 KiB serialized. */
  datos?: Datos | null;
}

export interface ListOptions {
  limit: number;
  cursor?: string;
  unread?: boolean;
  tipo?: string;
}

/** What a reconnecting client is replayed, and whether that was everything pending. */
export interface CatchUp {
  notifications: NotificacionJson[];
  complete: boolean;
}

export interface NotificationPage {
  notifications: NotificacionJson[];
  unread_count: number;
  next_cursor: string | null;
}

/** The most rows a reconnecting client is replayed; past that it lists. */
export const CATCH_UP_LIMIT = 1000;
/** The most `mensaje` bytes one catch-up replays (the first row always goes, whatever its size). */
export const CATCH_UP_BYTES = 1024 * 1024;
/** Catch-ups running at once on this instance; more wait, and past the queue replay nothing. */
export const CATCH_UPS_IN_FLIGHT = 4;
const CATCH_UPS_WAITING = 1000;
const CATCH_UP_WAIT_MS = 10_000;

const PURGE_BATCH = 5000;
/** Single notifications in flight at once, and the most rows one coalesced INSERT carries. */
const SINGLES_IN_FLIGHT = 2;
const SINGLES_PER_INSERT = 500;
/** Unread counts (handshakes, lists) in flight at once, and users per counting query. */
const COUNTS_IN_FLIGHT = 2;
const COUNTS_PER_QUERY = 500;
/**
 * Recipients of fan-outs being stored at once (two maximal sends); fan-outs past it wait, at
 * most `FAN_OUTS_WAITING` of them for at most `FAN_OUT_WAIT_MS`, and past that are refused
 * with a 503 and `Retry-After`. The wait stays well inside the request deadline (9 s), so a
 * refused send hears why, and the INSERT still has time to run.
 */
export const FAN_OUT_RECIPIENTS = 20_000;
export const FAN_OUTS_WAITING = 64;
const FAN_OUT_WAIT_MS = 5_000;
const FOREIGN_KEY_VIOLATION = '23503';

/** What a sender says in a notification, checked: the same for every recipient of a send. */
interface Content {
  mensaje: string;
  tipo: string;
  url: string | null;
  datos: Datos | null;
}

interface Row extends Content {
  id: string;
  usuario_id: number;
  leida: boolean;
  fecha: Date;
}

/**
 * A new row with its user, so its string form names the user even when given only an id.
 * Without what the sender wrote: the caller has it, and a fan-out would bring it back per row.
 */
interface CreatedRow extends Omit<Row, keyof Content> {
  username: string;
  is_staff: boolean;
}

interface ListRow extends Row {
  /** `fecha` with its microseconds, for the cursor. */
  position: string;
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

/** The users a created row belongs to: they passed the `is_active` check of the INSERT. */
function userOf(row: CreatedRow): User {
  return Object.assign(new User(), {
    id: row.usuario_id,
    username: row.username,
    isStaff: row.is_staff,
    isActive: true,
  });
}

function toEntity(row: Omit<Row, keyof Content>, content: Content, user?: User): Notificacion {
  return Object.assign(new Notificacion(), {
    id: Number(row.id),
    usuarioId: row.usuario_id,
    usuario: user,
    mensaje: content.mensaje,
    leida: row.leida,
    fecha: row.fecha,
    tipo: content.tipo,
    url: content.url,
    datos: content.datos,
  });
}

/** The JSON shape of a notification, everywhere: the seed's four fields first, then the others. */
export function toJson(
  notificacion: Pick<Notificacion, 'id' | 'mensaje' | 'leida' | 'fecha' | 'tipo' | 'url' | 'datos'>,
): NotificacionJson {
  return {
    id: notificacion.id,
    mensaje: notificacion.mensaje,
    leida: notificacion.leida,
    fecha: notificacion.fecha.toISOString(),
    tipo: notificacion.tipo,
    url: notificacion.url,
    datos: notificacion.datos,
  };
}

function assertMensaje(mensaje: string): void {
  const problem = mensajeProblem(mensaje);
  if (problem) throw new BadRequestException(problem);
}

/** The checked content of a send: a 400 naming the first field the contract refuses. */
function contentOf(mensaje: string, opts: NotifyOptions): Content {
  assertMensaje(mensaje);
  const content: Content = {
    mensaje,
    tipo: opts.tipo ?? TIPO_DEFAULT,
    url: opts.url ?? null,
    datos: opts.datos ?? null,
  };
  const problem =
    tipoProblem(content.tipo) ??
    (content.url === null ? undefined : urlProblem(content.url)) ??
    (content.datos === null ? undefined : datosProblem(content.datos));
  if (problem) throw new BadRequestException(problem);
  return content;
}

/** `datos` as the INSERT takes it: JSON text, cast to jsonb there. */
function datosParam(content: Content): string | null {
  return content.datos === null ? null : JSON.stringify(content.datos);
}

function isForeignKeyViolation(error: unknown): boolean {
  return (error as { driverError?: { code?: string } }).driverError?.code === FOREIGN_KEY_VIOLATION;
}

interface Single {
  userId: number;
  content: Content;
}

/** The only reader and writer of notifications. */
@Injectable()
export class NotificationsService {
  /** Bounds the memory of concurrent fan-outs: see FAN_OUT_RECIPIENTS. */
  private readonly fanOuts = new Admission({
    capacity: FAN_OUT_RECIPIENTS,
    maxWaiting: FAN_OUTS_WAITING,
    maxWaitMs: FAN_OUT_WAIT_MS,
    busyMessage: 'too many notifications being sent at once, try again shortly',
    retryAfterSeconds: 5,
  });

  /** Bounds the memory of catch-ups: a reconnect storm replays a few at a time. */
  private readonly catchUps = new Admission({
    capacity: CATCH_UPS_IN_FLIGHT,
    maxWaiting: CATCH_UPS_WAITING,
    maxWaitMs: CATCH_UP_WAIT_MS,
    busyMessage: 'too many catch-ups at once',
    retryAfterSeconds: 5,
  });

  /**
   * Single notifications outside a caller's transaction (the common case: one order update for
   * one user) share INSERTs: under load one statement and one commit carry many, each still
   * all-or-nothing for its own caller.
   */
  private readonly singles = new Coalescer<Single, CreatedRow | undefined>(
    (batch) => this.insertSingles(batch),
    { maxInFlight: SINGLES_IN_FLIGHT, maxBatch: SINGLES_PER_INSERT, timeoutMs: QUERY_BOUND_MS },
  );

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

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly outbox: OutboxRepository,
    private readonly doorbell: Doorbell,
    private readonly afterCommit: AfterCommit,
    private readonly metrics: MetricsService,
  ) {}

  /** Stores a notification for one active user; the delivery leader pushes it to `user_<id>` after commit. */
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
    const content = contentOf(mensaje, opts);
    const users = new Map<number, User | undefined>();
    for (const usuario of usuarios) {
      const id = typeof usuario === 'number' ? usuario : usuario.id;
      if (!users.has(id) || typeof usuario !== 'number')
        users.set(id, typeof usuario === 'number' ? undefined : usuario);
    }
    const ids = [...users.keys()];
    if (ids.length === 0) return [];
    if (ids.length === 1 && opts.manager === undefined) {
      const row = await this.singles.run({ userId: ids[0], content });
      if (!row) throw new BadRequestException(`unknown or inactive usuarios: ${ids[0]}`);
      const created = [toEntity(row, content, users.get(ids[0]) ?? userOf(row))];
      this.announce(created.length);
      return created;
    }
    await this.fanOuts.acquire(ids.length);
    try {
      return await this.insertFanOut(ids, users, content, opts.manager);
    } finally {
      this.fanOuts.release(ids.length);
    }
  }

  /** Stores one notification for every active staff user (none is fine); the leader pushes them. */
  async notificarStaff(mensaje: string, opts: NotifyOptions = {}): Promise<Notificacion[]> {
    const content = contentOf(mensaje, opts);
    // How many staff there are is known only once stored: the INSERT counts as one recipient
    // (the staff list is short; the delivery leader bounds the pushes either way).
    await this.fanOuts.acquire(1);
    try {
      const rows = await this.query<CreatedRow>(
        opts.manager,
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
        [mensaje, content.tipo, content.url, datosParam(content)],
      );
      const created = rows.map((row) => toEntity(row, content, userOf(row)));
      this.afterCommit.run(opts.manager, () => this.announce(created.length));
      return created;
    } finally {
      this.fanOuts.release(1);
    }
  }

  /** The INSERT of `notificarUsuarios` for several users (or in a caller's transaction). */
  private async insertFanOut(
    ids: number[],
    users: Map<number, User | undefined>,
    content: Content,
    manager: EntityManager | undefined,
  ): Promise<Notificacion[]> {
    let rows: CreatedRow[];
    let failed = false;
    try {
      // The count guard makes the INSERT all-or-nothing without a transaction of our own.
      rows = await this.query<CreatedRow>(
        manager,
        // No ordering work: callers get their rows by user id, and the ids are distinct.
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
      );
    } catch (error) {
      // A user deleted between the check and the insert.
      if (!isForeignKeyViolation(error)) throw error;
      rows = [];
      failed = true;
    }
    if (rows.length !== ids.length) {
      // Asked on the caller's transaction, which may have changed users itself, so the ids
      // named are those its INSERT refused; unless the INSERT failed, which aborted it.
      const missing = await this.missingUsers(failed ? undefined : manager, ids);
      throw new BadRequestException(`unknown or inactive usuarios: ${missing.join(', ')}`);
    }
    const byUser = new Map(rows.map((row) => [row.usuario_id, row]));
    const created = ids.map((id) => {
      const row = byUser.get(id)!;
      return toEntity(row, content, users.get(id) ?? userOf(row));
    });
    this.afterCommit.run(manager, () => this.announce(created.length));
    return created;
  }

  /** A page of the user's notifications, newest first, with their total unread count. */
  async list(userId: number, options: ListOptions): Promise<NotificationPage> {
    const after = options.cursor === undefined ? undefined : decodeCursor(options.cursor);
    const params: unknown[] = [userId, options.limit + 1];
    if (after) params.push(after.fecha, after.id);
    if (options.tipo !== undefined) params.push(options.tipo);
    const shape = {
      unread: options.unread === true,
      after: after !== undefined,
      tipo: options.tipo !== undefined,
    };
    const [rows, unreadCount] = await Promise.all([
      runPrepared<ListRow>(this.dataSource, listStatementName(shape), listSql(shape), params),
      this.countUnread(userId),
    ]);
    const page = rows.slice(0, options.limit);
    const last = page.at(-1);
    return {
      notifications: page.map((row) => toJson(toEntity(row, row))),
      unread_count: unreadCount,
      next_cursor:
        rows.length > options.limit && last
          ? encodeCursor({ fecha: last.position, id: Number(last.id) })
          : null,
    };
  }

  /** How many of the user's notifications are unread. */
  countUnread(userId: number): Promise<number> {
    return this.unreadCounts.run(userId);
  }

  /**
   * Marks the user's notifications read: those ids (others' ids are ignored), or all when `ids`
   * is empty. Then tells every socket of the user the new unread count.
   */
  async markRead(userId: number, ids: number[]): Promise<MarkReadResult> {
    const [row] = await this.dataSource.query<Array<{ updated: number; unread: number }>>(
      markReadSql(ids.length > 0),
      ids.length > 0 ? [userId, ids] : [userId],
    );
    // Counts go out only from the leader, recounted after this commit, in one order for all
    // instances: concurrent mark-reads cannot leave a socket showing a stale count last.
    this.doorbell.ring();
    return { updated: row.updated, unread_count: Math.max(0, row.unread - row.updated) };
  }

  /**
   * What a client that holds notification `sinceId` may have missed (every later id, and every
   * earlier one delivered after it), in the order delivered live: at most `CATCH_UP_LIMIT` of
   * them and `CATCH_UP_BYTES` of text, `complete` when that was all. When too many catch-ups
   * are running already, none (and not complete): the client lists instead.
   */
  async catchUp(userId: number, sinceId: number): Promise<CatchUp> {
    try {
      await this.catchUps.acquire(1);
    } catch {
      return { notifications: [], complete: false };
    }
    try {
      const rows = await this.outbox.missedSince(userId, sinceId, CATCH_UP_LIMIT, CATCH_UP_BYTES);
      const notifications: NotificacionJson[] = [];
      for (const row of rows.slice(0, CATCH_UP_LIMIT)) {
        if (row.mensaje === null) break;
        notifications.push(toJson({ ...row, id: Number(row.id), mensaje: row.mensaje }));
      }
      return { notifications, complete: notifications.length === rows.length };
    } finally {
      this.catchUps.release(1);
    }
  }

  /**
   * Deletes notifications older than `days` days (a whole number, at least 1), in batches;
   * returns how many. 0 would mean "every notification", which no caller means.
   */
  async purgeOlderThan(days: number): Promise<number> {
    if (!Number.isInteger(days) || days < 1) {
      throw new RangeError(`purgeOlderThan needs a whole number of days, at least 1 (got ${days})`);
    }
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

  /**
   * Stores already-dated notifications in one INSERT and emits nothing: seed data and imports,
   * not news. Returns how many were stored.
   */
  async importMany(
    rows: ReadonlyArray<Pick<Notificacion, 'usuarioId' | 'mensaje' | 'leida' | 'fecha'>>,
  ): Promise<number> {
    if (rows.length === 0) return 0;
    for (const row of rows) assertMensaje(row.mensaje);
    const [row] = await this.dataSource.query<Array<{ count: number }>>(
      `WITH inserted AS (
         INSERT INTO notificaciones (usuario_id, mensaje, leida, fecha)
         SELECT * FROM unnest($1::int[], $2::text[], $3::boolean[], $4::timestamptz[])
         RETURNING 1
       )
       SELECT count(*)::int AS count FROM inserted`,
      [
        rows.map((item) => item.usuarioId),
        rows.map((item) => item.mensaje),
        rows.map((item) => item.leida),
        rows.map((item) => item.fecha.toISOString()),
      ],
    );
    return row.count;
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

  /**
   * One INSERT for a batch of single notifications (any users, any messages). Answers, per
   * input and in order, its row, or undefined when its user is unknown or inactive.
   */
  private async insertSingles(batch: Single[]): Promise<Array<CreatedRow | undefined>> {
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
           CROSS JOIN LATERAL (SELECT coalesce(w.tipo = ANY(p.silenciados), false) AS muted) m
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
      if ((error as { code?: string }).code !== FOREIGN_KEY_VIOLATION) throw error;
      if (batch.length === 1) return [undefined];
      return (await Promise.all(batch.map((single) => this.insertSingles([single])))).flat();
    }
    // Identity ids follow the ORDER BY, so rows come back in input order, skipping the inputs
    // whose user was not found (every input of that user, since they share the same answer).
    let next = 0;
    return batch.map((single) =>
      rows[next]?.usuario_id === single.userId ? rows[next++] : undefined,
    );
  }

  private async missingUsers(manager: EntityManager | undefined, ids: number[]): Promise<number[]> {
    const rows = await this.query<{ id: number }>(
      manager,
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

  /** Counts what was stored and wakes the delivery leader, which pushes it. */
  private announce(count: number): void {
    this.metrics.notificationsCreated(count);
    this.doorbell.ring();
  }
}

import { BadRequestException, Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { Admission } from '../limits/admission';
import { MetricsService } from '../metrics/metrics.service';
import { User } from '../users/user.entity';
import { UsersService } from '../users/users.service';
import { AfterCommit } from './after-commit';
import { decodeCursor, encodeCursor } from './cursor';
import { Doorbell } from './delivery/doorbell';
import { OutboxRepository } from './delivery/outbox.repository';
import { CatchUpEvent, ListResponse, MarkReadResult, NotificacionJson } from './events';
import { InboxRepository } from './inbox.repository';
import { mensajeProblem } from './mensaje';
import { Notificacion } from './notificacion.entity';
import {
  contentProblem,
  contentWithDefaults,
  NotificationContent,
  NotificationFields,
} from './notification-fields';
import { NotificationsRepository } from './notifications.repository';
import { toJson } from './payloads';

export interface NotifyOptions extends NotificationFields {
  /** A manager inside the caller's transaction: the row joins it, the emit waits for its commit. */
  manager?: EntityManager;
}

export interface ListOptions {
  limit: number;
  cursor?: string;
  unread?: boolean;
  /** Only notifications of this kind. */
  tipo?: string;
}

/** What a reconnecting client is replayed, and whether that was everything pending. */
export interface CatchUp extends Pick<CatchUpEvent, 'complete'> {
  notifications: NotificacionJson[];
}

/** The most rows a reconnecting client is replayed; past that it lists. */
export const CATCH_UP_LIMIT = 1000;
/** The most `mensaje` bytes one catch-up replays (the first row always goes, whatever its size). */
export const CATCH_UP_BYTES = 1024 * 1024;
/** Catch-ups running at once on this instance; more wait, and past the queue replay nothing. */
export const CATCH_UPS_IN_FLIGHT = 4;
const CATCH_UPS_WAITING = 1000;
const CATCH_UP_WAIT_MS = 10_000;

/**
 * Recipients of fan-outs being stored at once (two maximal sends); fan-outs past it wait, at
 * most `FAN_OUTS_WAITING` of them for at most `FAN_OUT_WAIT_MS`, and past that are refused
 * with a 503 and `Retry-After`. The wait stays well inside the request deadline (9 s), so a
 * refused send hears why, and the INSERT still has time to run.
 */
export const FAN_OUT_RECIPIENTS = 20_000;
export const FAN_OUTS_WAITING = 64;
const FAN_OUT_WAIT_MS = 5_000;

function assertMensaje(mensaje: string): void {
  const problem = mensajeProblem(mensaje);
  if (problem) throw new BadRequestException(problem);
}

/** The content of a send with its defaults, checked: a 400 naming the first field refused. */
function contentOf(mensaje: string, opts: NotifyOptions): NotificationContent {
  const content = contentWithDefaults(mensaje, opts);
  const problem = contentProblem(content);
  if (problem) throw new BadRequestException(problem);
  return content;
}

function unknownUsers(ids: readonly number[]): BadRequestException {
  return new BadRequestException(`unknown or inactive usuarios: ${ids.join(', ')}`);
}

/** The rules of notifications: who may get one, what is stored, what a client is told. */
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

  constructor(
    private readonly stored: NotificationsRepository,
    private readonly inbox: InboxRepository,
    private readonly outbox: OutboxRepository,
    private readonly users: UsersService,
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
    // The User objects the caller gave, to hand back on its notifications; ids alone get the
    // user as the INSERT found it.
    const given = new Map<number, User | undefined>();
    for (const usuario of usuarios) {
      const id = typeof usuario === 'number' ? usuario : usuario.id;
      if (!given.has(id) || typeof usuario !== 'number')
        given.set(id, typeof usuario === 'number' ? undefined : usuario);
    }
    const ids = [...given.keys()];
    if (ids.length === 0) return [];
    if (ids.length === 1 && opts.manager === undefined) {
      const created = await this.stored.insertOne(ids[0], content);
      if (!created) throw unknownUsers(ids);
      created.usuario = given.get(ids[0]) ?? created.usuario;
      this.announce(1);
      return [created];
    }
    await this.fanOuts.acquire(ids.length);
    try {
      return await this.notifyAll(ids, given, content, opts.manager);
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
      const created = await this.stored.insertForStaff(content, opts.manager);
      this.afterCommit.run(opts.manager, () => this.announce(created.length));
      return created;
    } finally {
      this.fanOuts.release(1);
    }
  }

  /** A page of the user's notifications, newest first, with their total unread count. */
  async list(userId: number, options: ListOptions): Promise<ListResponse> {
    const after = options.cursor === undefined ? undefined : decodeCursor(options.cursor);
    const [rows, unreadCount] = await Promise.all([
      this.inbox.list(userId, options.limit + 1, {
        unread: options.unread === true,
        after,
        tipo: options.tipo,
      }),
      this.countUnread(userId),
    ]);
    const page = rows.slice(0, options.limit);
    const last = page.at(-1);
    return {
      notifications: page.map((row) => toJson(row.notificacion)),
      unread_count: unreadCount,
      next_cursor:
        rows.length > options.limit && last
          ? encodeCursor({ fecha: last.position, id: last.notificacion.id })
          : null,
    };
  }

  /** How many of the user's notifications are unread. */
  countUnread(userId: number): Promise<number> {
    return this.inbox.countUnread(userId);
  }

  /**
   * Marks the user's notifications read: those ids (others' ids are ignored), or all when `ids`
   * is empty. Then tells every socket of the user the new unread count.
   */
  async markRead(userId: number, ids: number[]): Promise<MarkReadResult> {
    const { updated, unread } = await this.inbox.markRead(userId, ids);
    // Counts go out only from the leader, recounted after this commit, in one order for all
    // instances: concurrent mark-reads cannot leave a socket showing a stale count last.
    this.doorbell.ring();
    return { updated, unread_count: unread };
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
        notifications.push(toJson({ ...row, mensaje: row.mensaje }));
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
    return this.stored.deleteOlderThan(days);
  }

  /**
   * Stores already-dated notifications in one INSERT and emits nothing: seed data and imports,
   * not news. Returns how many were stored.
   */
  async importMany(
    rows: ReadonlyArray<
      Pick<Notificacion, 'usuarioId' | 'mensaje' | 'leida' | 'fecha'> &
        Partial<Pick<Notificacion, 'tipo' | 'url'>>
    >,
  ): Promise<number> {
    if (rows.length === 0) return 0;
    for (const row of rows) assertMensaje(row.mensaje);
    return this.stored.insertDated(rows);
  }

  /** `notificarUsuarios` for several users, or in a caller's transaction. */
  private async notifyAll(
    ids: number[],
    given: Map<number, User | undefined>,
    content: NotificationContent,
    manager: EntityManager | undefined,
  ): Promise<Notificacion[]> {
    const { created, failed } = await this.stored.insertForAll(ids, content, manager);
    if (created.length !== ids.length) {
      // Asked on the caller's transaction, which may have changed users itself, so the ids
      // named are those its INSERT refused; unless the INSERT failed, which aborted it.
      const active = await this.users.activeAmong(ids, failed ? undefined : manager);
      throw unknownUsers(ids.filter((id) => !active.has(id)));
    }
    const byUser = new Map(created.map((notificacion) => [notificacion.usuarioId, notificacion]));
    const ordered = ids.map((id) => {
      const notificacion = byUser.get(id)!;
      notificacion.usuario = given.get(id) ?? notificacion.usuario;
      return notificacion;
    });
    this.afterCommit.run(manager, () => this.announce(ordered.length));
    return ordered;
  }

  /** Counts what was stored and wakes the delivery leader, which pushes it. */
  private announce(count: number): void {
    this.metrics.notificationsCreated(count);
    this.doorbell.ring();
  }
}

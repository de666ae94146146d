import { Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { Client } from 'pg';
import { DataSource } from 'typeorm';
import { LEADER_LOCK } from '../../database/advisory-lock';
import { pgPoolOf } from '../../database/pg-pool';
import { NotificationsPublisher } from '../notifications.publisher';
import { toJson } from '../payloads';
import { DeliveredRow, OutboxRepository, ROWS_PER_SLICE } from './outbox.repository';

/** The channel commits ring the leader on (LISTEN/NOTIFY). */
export const DOORBELL_CHANNEL = 'entregas';

/**
 * How often an instance that does not lead tries to, and waits after losing the lead. Part of
 * every handover (with IDLE_SESSION_MS for a stalled leader), and one cheap statement per try.
 */
const RETRY_MS = 500;
/** The leader reads the outbox this often even unrung: a creator may die before it rings. */
const POLL_MS = 500;
/**
 * PostgreSQL ends the leader's session (and with it the lock) after this long without a
 * statement: a leader that stalls (a frozen process, a connection whose packets go nowhere)
 * hands over within seconds. It polls far more often than this while it is alive.
 */
const IDLE_SESSION_MS = 2000;
/** Every wait on the leader's connection is bounded, so a stall ends its lead, never freezes it. */
const STATEMENT_MS = 5000;

/**
 * Ends the leader's session at once. A polite `end()` leaves the socket open until PostgreSQL
 * has finished the statement in flight; a backend blocked sending a reply nobody reads any more
 * (the process is shutting down) would keep the session, and the lock, for as long as it waits.
 * Destroying the socket makes the backend see the client gone and release the lock now.
 */
async function closeNow(connection: Client | undefined): Promise<void> {
  if (!connection) return;
  const ended = connection.end().catch(() => undefined);
  connection.connection.stream.destroy();
  await ended;
}

const delay = (ms: number): Promise<void> =>
  new Promise((resolve) => setTimeout(resolve, ms).unref());

/**
 * The one publisher of a database's notifications and unread counts. Exactly one process emits,
 * in one order, so catch-up can tell what went out after what: the instance that holds a
 * session advisory lock on a connection of its own. It drains the outbox each time it is rung
 * (see Doorbell) and every POLL_MS; the others try to take over every RETRY_MS, which they can
 * as soon as the leader's session ends (killed, stalled, or its connection failed).
 */
@Injectable()
export class DeliveryLeader implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(DeliveryLeader.name);
  private connection?: Client;
  private leading = false;
  private stopped = false;
  private draining = false;
  /** The drain in progress, so a shutdown can let it end before deleting what it published. */
  private drained: Promise<void> = Promise.resolve();
  private rungWhileDraining = false;
  /**
   * Outbox rows published, deleted by the next read (a drain reads until a read finds nothing,
   * so they are deleted at once), or at a shutdown that ended a drain early: the next leader
   * pushes again whatever is left, so the less is left, the fewer tabs see a notification twice.
   */
  private published: number[] = [];
  /** The highest notification id committed at the previous read (see OutboxRepository.read). */
  private floor = 0;
  /** The highest notification id published so far (at takeover: every id no outbox row holds). */
  private publishedUpTo = 0;
  /** Ends the current lead with its reason. */
  private lose?: (error: Error) => void;

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly outbox: OutboxRepository,
    private readonly publisher: NotificationsPublisher,
  ) {}

  /** Whether this instance publishes now (a commit here can then wake it without a NOTIFY). */
  get isLeading(): boolean {
    return this.leading;
  }

  onApplicationBootstrap(): void {
    // Only a process that has sockets (the app binds the Socket.IO server) publishes: the
    // command line stores, rings, and leaves the pushing to a server.
    if (!this.publisher.hasSockets) return;
    void this.compete();
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopped = true;
    await this.forgetPublished();
    this.lose?.(new Error('shutting down'));
    await closeNow(this.connection);
  }

  /** Drains the outbox now (when leading): something committed. */
  wake(): void {
    if (!this.leading) return;
    if (this.draining) {
      this.rungWhileDraining = true;
      return;
    }
    this.drained = this.drain();
  }

  private async compete(): Promise<void> {
    while (!this.stopped) {
      try {
        await this.lead();
      } catch {
        // Not connected, or the lead ended (lead() says why): try again.
      }
      this.leading = false;
      this.lose = undefined;
      const connection = this.connection;
      this.connection = undefined;
      // Ending the session releases the lock, so another instance can take over at once.
      await closeNow(connection);
      if (!this.stopped) await delay(RETRY_MS);
    }
  }

  /** Connects, waits for the lock, then leads until the connection fails or shutdown. */
  private async lead(): Promise<void> {
    const connection = new Client({
      ...pgPoolOf(this.dataSource)!.options,
      statement_timeout: STATEMENT_MS,
      query_timeout: STATEMENT_MS,
      keepAlive: true,
    });
    this.connection = connection;
    const lost = new Promise<never>((_, reject) => {
      this.lose = reject;
      connection.on('error', reject);
      connection.on('end', () => reject(new Error('connection ended')));
    });
    // Keep the promise handled while it is not awaited yet.
    lost.catch(() => undefined);
    const until = <T>(work: Promise<T>): Promise<T> => Promise.race([work, lost]);

    await until(connection.connect());
    for (;;) {
      if (this.stopped) return;
      const { rows } = await until(
        connection.query<{ locked: boolean }>(
          'SELECT pg_try_advisory_lock($1, $2) AS locked',
          LEADER_LOCK,
        ),
      );
      if (rows[0].locked) break;
      await until(delay(RETRY_MS));
    }
    await until(connection.query(`SET idle_session_timeout = ${IDLE_SESSION_MS}`));
    await until(this.outbox.configureSession(connection));
    connection.on('notification', () => this.wake());
    await until(connection.query(`LISTEN ${DOORBELL_CHANNEL}`));
    this.floor = await until(this.outbox.highestIssued(connection));
    this.publishedUpTo = await until(this.outbox.highestPublished(connection));
    this.published = [];
    this.leading = true;
    this.logger.log('leading delivery');
    const poll = setInterval(() => this.wake(), POLL_MS);
    try {
      this.wake();
      await lost;
    } catch (error) {
      if (!this.stopped) this.logger.warn(`stopped leading delivery: ${(error as Error).message}`);
      throw error;
    } finally {
      clearInterval(poll);
      this.leading = false;
    }
  }

  private async drain(): Promise<void> {
    this.draining = true;
    try {
      do {
        this.rungWhileDraining = false;
        while (this.leading && !this.stopped && (await this.publishNext())) {
          // Until a read finds nothing: that read also deleted what was published.
        }
      } while (this.rungWhileDraining && this.leading);
    } catch (error) {
      this.lose?.(error as Error);
    } finally {
      this.draining = false;
    }
  }

  /**
   * Lets the drain in progress end, then deletes what it published, so that the next leader
   * does not push it again. Bounded like every statement of the leader's connection.
   */
  private async forgetPublished(): Promise<void> {
    if (!this.leading) return;
    await this.drained;
    if (!this.leading || this.published.length === 0) return;
    await this.outbox.forget(this.connection!, this.published).catch(() => undefined);
  }

  /** One read of the outbox, published; false when there was nothing to publish. */
  private async publishNext(): Promise<boolean> {
    const connection = this.connection!;
    const batch = await this.outbox.read(
      connection,
      this.published,
      this.floor,
      this.publishedUpTo,
    );
    this.floor = Math.max(this.floor, batch.newest ?? 0);
    this.published = batch.entries;
    if (batch.entries.length === 0) return false;
    if (batch.rows) this.publish(batch.rows);
    else {
      // A large fan-out, or long texts: a slice at a time (bounded in rows and in bytes), so
      // memory and every reply stay small whatever the notifications hold. The next slice is
      // asked for before this one is published, so PostgreSQL reads it while the emits run
      // (two slices in memory at most).
      let pending = batch.notificaciones;
      // Long texts fill a reply with few rows: ask for about as many as last fitted, so each
      // read does not go through a thousand rows to return thirty.
      let sliceSize = ROWS_PER_SLICE;
      let slice = pending.slice(0, sliceSize);
      let loading = this.outbox.load(connection, slice);
      // Handled here too for when the lead ends before it is awaited.
      loading.catch(() => undefined);
      while (this.leading) {
        const rows = await loading;
        const last = rows.at(-1);
        // Ids ascend in both: go on after the last one loaded (all of the slice when its rows
        // were deleted meanwhile).
        pending = pending.slice(last ? slice.indexOf(last.id) + 1 : slice.length);
        sliceSize = Math.min(ROWS_PER_SLICE, Math.max(16, rows.length * 2));
        slice = pending.slice(0, sliceSize);
        const next = slice.length > 0 ? this.outbox.load(connection, slice) : undefined;
        // Awaited on the next turn, where a failure ends the lead like any other.
        next?.catch(() => undefined);
        // Redis taking emits more slowly than they come: wait, rather than buffer them all.
        await this.publisher.paced(() => this.leading);
        this.publish(rows);
        if (!next) break;
        loading = next;
      }
    }
    this.publishedUpTo = Math.max(this.publishedUpTo, batch.notificaciones.at(-1) ?? 0);
    // After the notifications of the same read: a row deleted right after it was created goes
    // out (if at all) before the news that it is gone.
    for (const [userId, ids] of batch.deletions) {
      if (this.leading) this.publisher.deleted(userId, ids);
    }
    for (const [userId, unread] of batch.counts) {
      if (this.leading) this.publisher.unreadCount(userId, unread);
    }
    return true;
  }

  private publish(rows: DeliveredRow[]): void {
    // A lead lost meanwhile (another instance may publish these already): stay silent.
    if (!this.leading) return;
    for (const row of rows) this.publisher.notificacion(row.usuario_id, toJson(row));
  }
}

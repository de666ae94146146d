import { Client, ClientConfig, QueryResult } from 'pg';
import type { QueryRunner } from 'typeorm';

/*
 * Every wait on PostgreSQL is bounded, so that a request that meets a database that does not
 * answer (down, stalled, or a reply lost on the wire) gets its 503 within the contract's 10 s,
 * and a stuck connection is thrown away rather than handed to the next request.
 *
 * Worst case for one query: POOL_WAIT_MS to get a connection (a free one, or a new one,
 * connecting included) plus REPLY_TIMEOUT_MS for its reply: 2 + 6 = 8 s. That leaves 2 s of the
 * 10 for what the request did before (its auth lookup, answered in milliseconds when the
 * database is well) and for writing the response. A request that meets the stall fails there and
 * runs no further query.
 */

/** Waiting for a pooled connection (a free one, or a new one, connecting included). */
export const POOL_WAIT_MS = 2_000;

/**
 * PostgreSQL cancels a statement that runs longer (SQLSTATE 57014, a 503): a query waiting on
 * locks or on an overloaded server fails on the server, which keeps the connection usable.
 * Request queries take milliseconds; maintenance that needs longer lifts it (`withoutTimeouts`).
 */
export const STATEMENT_TIMEOUT_MS = 5_000;

/**
 * How long a query waits for its reply before the client drops the connection: for a server
 * that cannot even cancel (stalled, gone without a reset, a reply lost on the wire). Above
 * `STATEMENT_TIMEOUT_MS`, so a server that answers at all cancels first and keeps the connection.
 */
export const REPLY_TIMEOUT_MS = STATEMENT_TIMEOUT_MS + 1_000;

/** The longest one query can take, pool wait included: the bound for waits built on one. */
export const QUERY_BOUND_MS = POOL_WAIT_MS + REPLY_TIMEOUT_MS;

/**
 * TCP keepalive on every connection, after this much idle time: a NAT or firewall in between
 * keeps an idle pooled connection's mapping, and a peer that vanished is eventually noticed
 * (within minutes, the kernel's probe count and interval) instead of never.
 */
export const KEEPALIVE_INITIAL_DELAY_MS = 10_000;

type Callback = (error: Error | null, result?: QueryResult) => void;

export interface BoundedClientConfig extends ClientConfig {
  /** `REPLY_TIMEOUT_MS` for the service; 0 or absent: no bound. */
  replyTimeoutMillis?: number;
}

/**
 * A pg client that drops its connection when a query's reply does not come within
 * `replyTimeoutMs`. pg's own `query_timeout` rejects the query but keeps the connection, whose
 * protocol state still waits for that reply: every later query on it hangs, and a pool reuses it
 * (TypeORM releases its connections without an error). Destroying the socket instead fails the
 * query (and any queued behind it) with a connection error, a 503, and the pool discards the
 * client and connects a fresh one when needed. Pass it as the pool's `Client` option.
 */
export class BoundedClient extends Client {
  /** How long a query may wait for its reply, in ms; 0: as long as it takes. */
  replyTimeoutMs: number;

  constructor(config: BoundedClientConfig) {
    super(config);
    this.replyTimeoutMs = config.replyTimeoutMillis ?? 0;
  }

  // Every call form of pg's query (text or config, values, promise or callback) goes through
  // its callback form here. A `Submittable` (cursors, streams: unused by the service) is passed
  // through unbounded: it reports through its own events.
  // The return type is `any` to stand for each of the base class's overloads.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  override query(config: unknown, values?: unknown, callback?: unknown): any {
    const timeoutMs = this.replyTimeoutMs;
    if (timeoutMs <= 0 || typeof (config as { submit?: unknown }).submit === 'function') {
      return super.query(config as never, values as never, callback as never);
    }
    if (typeof values === 'function') [values, callback] = [undefined, values];
    let answer: Callback;
    let result: Promise<QueryResult> | undefined;
    if (typeof callback === 'function') answer = callback as Callback;
    else {
      result = new Promise((resolve, reject) => {
        answer = (error, value) => (error ? reject(error) : resolve(value!));
      });
    }
    const timer = setTimeout(() => this.drop(timeoutMs), timeoutMs);
    timer.unref();
    super.query(config as never, values as never, (error: Error | null, value?: QueryResult) => {
      clearTimeout(timer);
      answer(error, value);
    });
    return result;
  }

  private drop(timeoutMs: number): void {
    const error = Object.assign(
      new Error(`Connection terminated: no reply from PostgreSQL within ${timeoutMs} ms`),
      { code: 'ETIMEDOUT' },
    );
    this.connection.stream.destroy(error);
  }
}

/**
 * The bounds of the largest statement a request may make (a fan-out to 10,000 users of a
 * 10,000-character message writes hundreds of megabytes): longer than a lookup's, still inside
 * the request's 9 s deadline, so the client gets its answer or a 503 within 10 s.
 */
export const LARGE_STATEMENT_BOUNDS = { statementMs: 8_000, replyMs: 8_500 };

/**
 * Runs `work` with other bounds on this query runner's connection (0: none), then puts the
 * connection's own back: for migrations, which may wait for another instance's and rewrite a
 * large table (no bound), and for the largest fan-outs (LARGE_STATEMENT_BOUNDS). The runner must
 * be connected, and `work` must run its queries on it.
 */
export async function withTimeouts<T>(
  queryRunner: QueryRunner,
  bounds: { statementMs: number; replyMs: number },
  work: () => Promise<T>,
): Promise<T> {
  await queryRunner.query(`SET statement_timeout = ${Math.trunc(bounds.statementMs)}`);
  const client = (queryRunner as QueryRunner & { databaseConnection: unknown }).databaseConnection;
  const bounded = client instanceof BoundedClient ? client : undefined;
  const replyTimeoutMs = bounded?.replyTimeoutMs ?? 0;
  if (bounded) bounded.replyTimeoutMs = bounds.replyMs;
  try {
    return await work();
  } finally {
    if (bounded) bounded.replyTimeoutMs = replyTimeoutMs;
    // Back to the connection's default (the pool's statement_timeout), before the pool hands
    // the connection to anyone else.
    await queryRunner.query('RESET statement_timeout');
  }
}

/** `withTimeouts` with no bound at all: for migrations and maintenance. */
export function withoutTimeouts<T>(queryRunner: QueryRunner, work: () => Promise<T>): Promise<T> {
  return withTimeouts(queryRunner, { statementMs: 0, replyMs: 0 }, work);
}

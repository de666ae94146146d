import { performance } from 'node:perf_hooks';
import type { NotificacionMensajeEvent } from '../../src/notifications/events';
import { HttpClient } from './http';
import { closedLoop, LoopResult, rate } from './load';
import { info, sleep } from './log';
import { summarize, LatencySummary } from './stats';

/** A notification not received within this long after its request started is lost. */
export const LOST_AFTER_MS = 5000;

export const SEND_PATH = '/notifications/api/send/';

/**
 * Matches messages a tracker sent with the receipts clients report, keyed by a sequence number
 * carried in `mensaje` (the sender learns the id only from the response, which may come later).
 */
export class DeliveryTracker {
  private readonly pattern: RegExp;
  private next = 0;
  readonly startedAt = new Map<number, { at: number; userId: number }>();
  readonly receivedAt = new Map<number, number>();
  /** Sends that returned 201. */
  readonly accepted = new Set<number>();
  misrouted = 0;
  duplicates = 0;

  constructor(private readonly prefix: string) {
    this.pattern = new RegExp(`^${prefix.replace(/[^\w]/g, '\\$&')}:(\\d+)$`);
  }

  /** A fresh message for `userId`, stamped now. */
  begin(userId: number): string {
    const seq = this.next++;
    this.startedAt.set(seq, { at: performance.now(), userId });
    return `${this.prefix}:${seq}`;
  }

  accept(mensaje: string): void {
    const seq = this.seqOf(mensaje);
    if (seq !== undefined) this.accepted.add(seq);
  }

  /** For the socket pool's `onMessage`. */
  receive(userId: number, event: NotificacionMensajeEvent, at: number): void {
    const seq = this.seqOf(event.message);
    if (seq === undefined) return;
    const sent = this.startedAt.get(seq);
    if (!sent || sent.userId !== userId) {
      this.misrouted += 1;
      return;
    }
    if (this.receivedAt.has(seq)) this.duplicates += 1;
    else this.receivedAt.set(seq, at);
  }

  /** Waits until every accepted send has been received, or `LOST_AFTER_MS` after the last. */
  async settle(): Promise<void> {
    const deadline = performance.now() + LOST_AFTER_MS;
    while (performance.now() < deadline) {
      let pending = 0;
      for (const seq of this.accepted) if (!this.receivedAt.has(seq)) pending += 1;
      if (pending === 0) return;
      await sleep(20);
    }
  }

  /** End-to-end latencies of accepted sends received in time, and how many were lost. */
  outcome(): { latencies: number[]; lost: number } {
    const latencies: number[] = [];
    let lost = 0;
    for (const seq of this.accepted) {
      const received = this.receivedAt.get(seq);
      const latency = received === undefined ? Infinity : received - this.startedAt.get(seq)!.at;
      if (latency <= LOST_AFTER_MS) latencies.push(latency);
      else lost += 1;
    }
    return { latencies, lost };
  }

  private seqOf(mensaje: string): number | undefined {
    const match = this.pattern.exec(mensaje);
    return match ? Number(match[1]) : undefined;
  }
}

export interface DeliveryResult {
  concurrency: number;
  seconds: number;
  sent: number;
  sendErrors: number;
  firstError?: string;
  sentPerSecond: number;
  delivered: number;
  deliveredPerSecond: number;
  lost: number;
  misrouted: number;
  duplicates: number;
  endToEnd: LatencySummary;
  request: LatencySummary;
}

/**
 * A staff user sends one notification to one user at a time through POST /send/, `concurrency`
 * requests in flight for `seconds`; connected clients report receipts to `tracker`.
 */
export async function driveDelivery(options: {
  sendUrl: string;
  staffToken: string;
  userIds: readonly number[];
  concurrency: number;
  seconds: number;
  tracker: DeliveryTracker;
}): Promise<{ result: DeliveryResult; loop: LoopResult }> {
  const { tracker, userIds, staffToken } = options;
  const client = new HttpClient(options.sendUrl, options.concurrency);
  let next = 0;
  try {
    const loop = await closedLoop(options.concurrency, options.seconds * 1000, async () => {
      const userId = userIds[next++ % userIds.length];
      const mensaje = tracker.begin(userId);
      const response = await client.send('POST', SEND_PATH, {
        token: staffToken,
        json: { usuarios: [userId], mensaje },
      });
      if (response.status !== 201) {
        throw new Error(`send answered ${response.status}: ${response.body.slice(0, 200)}`);
      }
      tracker.accept(mensaje);
    });
    await tracker.settle();
    const { latencies, lost } = tracker.outcome();
    const result: DeliveryResult = {
      concurrency: options.concurrency,
      seconds: loop.elapsedMs / 1000,
      sent: loop.ok,
      sendErrors: loop.errors,
      firstError: loop.firstError,
      sentPerSecond: rate(loop.ok, loop.elapsedMs),
      delivered: latencies.length,
      deliveredPerSecond: rate(latencies.length, loop.elapsedMs),
      lost,
      misrouted: tracker.misrouted,
      duplicates: tracker.duplicates,
      endToEnd: summarize(latencies),
      request: summarize(loop.latencies),
    };
    if (loop.errors > 0) info(`  ${loop.errors} sends failed; first: ${loop.firstError}`);
    return { result, loop };
  } finally {
    client.close();
  }
}

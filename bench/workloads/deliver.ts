import type { BenchContext, Workload } from '../lib/context';
import { createUsers } from '../lib/database';
import { DeliveryTracker, driveDelivery, DeliveryResult } from '../lib/delivery';
import { rate } from '../lib/load';
import { info } from '../lib/log';
import { rawSingleInserts } from '../lib/raw-insert';
import { allOf, at } from '../lib/report';
import { connectSockets } from '../lib/sockets';
import { summarize } from '../lib/stats';
import { signToken, withTokens } from '../lib/tokens';

/** Targets of issue 4 by concurrency. */
function report(
  context: BenchContext,
  name: string,
  result: DeliveryResult,
  baseline: { perSecond: number; p50: number; p99: number },
  judged: boolean,
) {
  const { report } = context;
  const c16 = judged && result.concurrency === 16;
  const c64 = judged && result.concurrency === 64;
  report.add(name, 'sent/s', result.sentPerSecond);
  report.add(name, 'delivered/s vs INSERT/s', result.deliveredPerSecond, {
    baseline: baseline.perSecond,
    target: c16
      ? allOf(at.least(1500), at.ratioAtLeast(0.8))
      : c64
        ? at.ratioAtLeast(1.5)
        : undefined,
  });
  report.add(name, 'e2e p50 ms', result.endToEnd.p50, { baseline: baseline.p50 });
  report.add(name, 'e2e p99 ms', result.endToEnd.p99, {
    baseline: baseline.p99,
    target: c16 ? at.below(25) : undefined,
  });
  report.add(name, 'lost', result.lost, { target: judged ? at.zero() : undefined });
}

/**
 * Runs the deliver measurement: sockets on `socketUrl`, sends through `sendUrl` (the same
 * instance for `deliver`, another one for `cluster`), each concurrency then its raw baseline.
 */
export async function measureDeliver(
  context: BenchContext,
  options: {
    workload: string;
    socketUrl: string;
    sendUrl: string;
    concurrency: number[];
    seconds: number;
    /** Whether issue 4's deliver targets apply. */
    judged: boolean;
  },
): Promise<void> {
  const { db, sizes, secret, tag } = context;
  const [staffId] = await createUsers(db.pool, `bench-${tag}-${options.workload}-staff`, 1, {
    staff: true,
  });
  const ids = await createUsers(db.pool, `bench-${tag}-${options.workload}`, sizes.deliverUsers);
  let tracker: DeliveryTracker | undefined;
  const sockets = await connectSockets(options.socketUrl, withTokens(secret, ids), {
    label: `${options.workload}: sockets connected`,
    onMessage: (userId, event, at) => tracker?.receive(userId, event, at),
  });
  const details: Record<string, unknown> = {
    users: ids.length,
    connected: sockets.sockets.length,
    connectFailures: sockets.failures,
    connectFirstError: sockets.firstError,
    runs: [] as unknown[],
  };
  context.details[options.workload] = details;
  try {
    if (sockets.sockets.length === 0) {
      throw new Error(`no socket connected: ${sockets.firstError ?? 'unknown error'}`);
    }
    // Only users with a live socket: a send to anyone else could not be received.
    const connected = sockets.sockets.map((entry) => entry.userId);
    const staffToken = signToken(secret, staffId);
    for (const concurrency of options.concurrency) {
      const name = `${options.workload} c${concurrency}`;
      info(`${name}: warm-up ${sizes.warmupSeconds} s`);
      tracker = new DeliveryTracker(`bench ${tag} ${options.workload} warm${concurrency}`);
      await driveDelivery({
        sendUrl: options.sendUrl,
        staffToken,
        userIds: connected,
        concurrency,
        seconds: sizes.warmupSeconds,
        tracker,
      });
      info(`${name}: ${options.seconds} s of single sends`);
      tracker = new DeliveryTracker(`bench ${tag} ${options.workload} c${concurrency}`);
      const { result } = await driveDelivery({
        sendUrl: options.sendUrl,
        staffToken,
        userIds: connected,
        concurrency,
        seconds: options.seconds,
        tracker,
      });
      tracker = undefined;
      info(
        `${name}: ${Math.round(result.sentPerSecond)} sent/s, ${Math.round(result.deliveredPerSecond)} delivered/s, ` +
          `p99 ${result.endToEnd.p99.toFixed(1)} ms, lost ${result.lost}; baseline: ${result.sent} raw INSERTs`,
      );
      const raw = await rawSingleInserts(
        db.url,
        connected,
        Math.max(result.sent, 1),
        concurrency,
        `bench ${tag} raw`,
      );
      const rawLatency = summarize(raw.latencies);
      const baseline = {
        perSecond: rate(raw.ok, raw.elapsedMs),
        p50: rawLatency.p50,
        p99: rawLatency.p99,
      };
      info(
        `${name}: raw INSERT ${Math.round(baseline.perSecond)}/s, p99 ${baseline.p99.toFixed(1)} ms`,
      );
      report(context, name, result, baseline, options.judged);
      (details.runs as unknown[]).push({
        ...result,
        disconnects: sockets.disconnects(),
        baseline: {
          statements: raw.ok,
          errors: raw.errors,
          perSecond: baseline.perSecond,
          latency: rawLatency,
        },
      });
    }
  } finally {
    sockets.close();
  }
}

export const deliver: Workload = {
  name: 'deliver',
  async run(context) {
    const service = await context.startService('deliver');
    try {
      await measureDeliver(context, {
        workload: 'deliver',
        socketUrl: service.url,
        sendUrl: service.url,
        concurrency: context.sizes.deliverConcurrency,
        seconds: context.sizes.deliverSeconds,
        judged: true,
      });
    } finally {
      await service.stop();
    }
  },
};

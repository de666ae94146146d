import { performance } from 'node:perf_hooks';
import type { BenchContext, Workload } from '../lib/context';
import { createUsers } from '../lib/database';
import { SEND_PATH } from '../lib/delivery';
import { HttpClient } from '../lib/http';
import { info, sleep, warn } from '../lib/log';
import { benchFile } from '../lib/paths';
import { at } from '../lib/report';
import { Service, startProcess } from '../lib/service';
import { connectSockets } from '../lib/sockets';
import { summarize } from '../lib/stats';
import { BenchUser, signToken, withTokens } from '../lib/tokens';

const RECEIVE_TIMEOUT_MS = 10_000;
const WARM_UP_SOCKETS = 50;

interface Held {
  sockets: number;
  failures: number;
  firstError?: string;
  connectSeconds: number;
  connectP50: number;
  connectP99: number;
  rssBeforeMb: number;
  rssAfterMb: number;
  rssPerSocketKb: number;
  heapBeforeMb: number;
  heapAfterMb: number;
  heapPerSocketKb: number;
  drops: number;
  acceptedMs: number;
  allReceivedMs: number;
  received: number;
}

/**
 * Holds one socket per user on `server`, measuring what connecting cost and how much the
 * server's heap (after a full collection) and resident memory grew, then sends one notification to all of them through `send`.
 */
async function hold(
  settleMs: number,
  server: Service,
  users: BenchUser[],
  send: (usuarios: number[], mensaje: string) => Promise<void>,
  mensaje: string,
): Promise<Held> {
  // Warm the handshake path up first, so its lazily loaded code is not counted as per-socket.
  const warm = await connectSockets(server.url, users.slice(0, WARM_UP_SOCKETS), {
    label: `${server.name}: warm-up sockets`,
  });
  warm.close();
  await sleep(settleMs);
  const heapBefore = await server.heapUsedBytes();
  const rssBefore = server.rssBytes();
  const received = new Set<number>();
  let last = 0;
  const pool = await connectSockets(server.url, users, {
    inFlight: 100,
    label: `${server.name}: sockets connected`,
    onMessage: (userId, event, at) => {
      if (event.message !== mensaje) return;
      received.add(userId);
      last = Math.max(last, at);
    },
  });
  try {
    await sleep(settleMs);
    const heapAfter = await server.heapUsedBytes();
    const rssAfter = server.rssBytes();
    const connected = pool.sockets.length;
    const started = performance.now();
    await send(
      pool.sockets.map((entry) => entry.userId),
      mensaje,
    );
    const acceptedMs = performance.now() - started;
    while (received.size < connected && performance.now() - started < RECEIVE_TIMEOUT_MS)
      await sleep(5);
    const connect = summarize(pool.connectMs);
    const held: Held = {
      sockets: connected,
      failures: pool.failures,
      firstError: pool.firstError,
      connectSeconds: pool.elapsedMs / 1000,
      connectP50: connect.p50,
      connectP99: connect.p99,
      rssBeforeMb: rssBefore / 2 ** 20,
      rssAfterMb: rssAfter / 2 ** 20,
      rssPerSocketKb: (rssAfter - rssBefore) / 1024 / Math.max(1, connected),
      heapBeforeMb: heapBefore / 2 ** 20,
      heapAfterMb: heapAfter / 2 ** 20,
      heapPerSocketKb: (heapAfter - heapBefore) / 1024 / Math.max(1, connected),
      drops: pool.disconnects(),
      acceptedMs,
      allReceivedMs: received.size === connected ? last - started : Number.NaN,
      received: received.size,
    };
    info(
      `${server.name}: ${connected} sockets in ${held.connectSeconds.toFixed(1)} s, ` +
        `heap ${held.heapBeforeMb.toFixed(0)} -> ${held.heapAfterMb.toFixed(0)} MB (${held.heapPerSocketKb.toFixed(1)} KB/socket), ` +
        `RSS ${held.rssBeforeMb.toFixed(0)} -> ${held.rssAfterMb.toFixed(0)} MB (${held.rssPerSocketKb.toFixed(1)} KB/socket), ` +
        `all ${received.size}/${connected} received in ${held.allReceivedMs.toFixed(0)} ms`,
    );
    return held;
  } finally {
    pool.close();
  }
}

/** Idle sockets on one instance: connect time, memory per socket, then one notification to each. */
export const connections: Workload = {
  name: 'connections',
  async run(context: BenchContext) {
    const { db, sizes, secret, tag, report } = context;
    let count = sizes.connections;
    if (count > context.maxClientSockets) {
      warn(
        `connections: the open-files limit allows ${context.maxClientSockets} client sockets, not ${count}`,
      );
      count = context.maxClientSockets;
    }
    const [staffId] = await createUsers(db.pool, `bench-${tag}-connections-staff`, 1, {
      staff: true,
    });
    const users = withTokens(secret, await createUsers(db.pool, `bench-${tag}-connections`, count));
    const staffToken = signToken(secret, staffId);

    const service = await context.startService('connections');
    let ours: Held;
    try {
      const client = new HttpClient(service.url, 1);
      try {
        ours = await hold(
          sizes.connectionsSettleSeconds * 1000,
          service,
          users,
          async (usuarios, mensaje) => {
            await client.json('POST', SEND_PATH, 201, {
              token: staffToken,
              json: { usuarios, mensaje },
              timeoutMs: 60_000,
            });
          },
          `bench ${tag} connections`,
        );
      } finally {
        client.close();
      }
    } finally {
      await service.stop();
    }

    const bare = await startProcess({
      name: 'bare socket.io',
      entry: benchFile('lib/bare-socket-server.js'),
      env: {},
    });
    let base: Held;
    try {
      const client = new HttpClient(bare.url, 1);
      try {
        base = await hold(
          sizes.connectionsSettleSeconds * 1000,
          bare,
          users,
          async (usuarios, mensaje) => {
            await client.json('POST', '/emit', 201, {
              json: { usuarios, mensaje },
              timeoutMs: 60_000,
            });
          },
          `bench ${tag} connections bare`,
        );
      } finally {
        client.close();
      }
    } finally {
      await bare.stop();
    }

    const name = `connections ${count.toLocaleString('en-US')}`;
    report.add(name, 'connected', ours.sockets, {
      baseline: base.sockets,
      target: { text: `= ${count}`, met: (value) => value === count },
    });
    report.add(name, 'connect all s', ours.connectSeconds, { baseline: base.connectSeconds });
    report.add(name, 'connect p99 ms', ours.connectP99, { baseline: base.connectP99 });
    report.add(name, 'heap KB/socket', ours.heapPerSocketKb, {
      baseline: base.heapPerSocketKb,
      target: at.below(20),
    });
    report.add(name, 'RSS KB/socket', ours.rssPerSocketKb, { baseline: base.rssPerSocketKb });
    report.add(name, 'all received ms', ours.allReceivedMs, {
      baseline: base.allReceivedMs,
      target: at.below(1000),
    });
    report.add(name, 'dropped or missed', ours.drops + (ours.sockets - ours.received), {
      target: at.zero(),
    });
    context.details.connections = { sockets: count, ours, baseline: base };
  },
};

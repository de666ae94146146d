import { performance } from 'node:perf_hooks';
import type { Workload } from '../lib/context';
import { createUsers } from '../lib/database';
import { LOST_AFTER_MS, SEND_PATH } from '../lib/delivery';
import { HttpClient } from '../lib/http';
import { info, sleep } from '../lib/log';
import { warmPool } from '../lib/raw-insert';
import { at } from '../lib/report';
import { connectSockets } from '../lib/sockets';
import { median } from '../lib/stats';
import { signToken, withTokens } from '../lib/tokens';

/** The fan-out baseline: one multi-row INSERT ... RETURNING of the same rows through pg. */
const RAW_FANOUT = `INSERT INTO notificaciones (usuario_id, mensaje)
  SELECT u, $2 FROM unnest($1::int[]) AS u
  RETURNING id, usuario_id, mensaje, leida, fecha`;

interface Round {
  mensaje: string;
  started: number;
  received: Set<number>;
  last: number;
}

/** One send to many users, some of them connected: until stored (201), until the last receipt. */
export const fanout: Workload = {
  name: 'fanout',
  async run(context) {
    const { db, sizes, secret, tag, report } = context;
    const service = await context.startService('fanout');
    const [staffId] = await createUsers(db.pool, `bench-${tag}-fanout-staff`, 1, { staff: true });
    const ids = await createUsers(db.pool, `bench-${tag}-fanout`, sizes.fanoutUsers);
    let round: Round | undefined;
    const sockets = await connectSockets(
      service.url,
      withTokens(secret, ids.slice(0, sizes.fanoutConnected)),
      {
        label: 'fanout: sockets connected',
        onMessage: (userId, event, receivedAt) => {
          if (!round || event.message !== round.mensaje) return;
          round.received.add(userId);
          round.last = Math.max(round.last, receivedAt);
        },
      },
    );
    const client = new HttpClient(service.url, 1);
    const staffToken = signToken(secret, staffId);
    const connected = sockets.sockets.length;
    const stored: number[] = [];
    const lastReceipt: number[] = [];
    const missed: number[] = [];
    const raw: number[] = [];
    try {
      if (connected === 0) throw new Error(`no socket connected: ${sockets.firstError}`);
      // Round 0 warms the service up and is not counted.
      for (let index = 0; index <= sizes.fanoutRepeats; index += 1) {
        const current: Round = {
          mensaje: `bench ${tag} fanout ${index}`,
          started: performance.now(),
          received: new Set(),
          last: 0,
        };
        round = current;
        const body = await client.json<{ created: number }>('POST', SEND_PATH, 201, {
          token: staffToken,
          json: { usuarios: ids, mensaje: current.mensaje },
        });
        const storedMs = performance.now() - current.started;
        if (body.created !== ids.length) {
          throw new Error(`fanout created ${body.created} of ${ids.length}`);
        }
        while (
          current.received.size < connected &&
          performance.now() - current.started < LOST_AFTER_MS
        ) {
          await sleep(5);
        }
        const lastMs = current.last > 0 ? current.last - current.started : Number.NaN;
        info(
          `fanout round ${index}${index === 0 ? ' (warm-up)' : ''}: stored ${storedMs.toFixed(0)} ms, ` +
            `last receipt ${lastMs.toFixed(0)} ms, ${current.received.size}/${connected} received`,
        );
        if (index === 0) continue;
        stored.push(storedMs);
        lastReceipt.push(current.received.size === connected ? lastMs : LOST_AFTER_MS);
        missed.push(connected - current.received.size);
      }
      round = undefined;
      const pool = await warmPool(db.url, 1, 'bench-baseline');
      try {
        for (let index = 0; index <= sizes.fanoutRepeats; index += 1) {
          const started = performance.now();
          await pool.query(RAW_FANOUT, [ids, `bench ${tag} raw fanout ${index}`]);
          if (index > 0) raw.push(performance.now() - started);
        }
      } finally {
        await pool.end();
      }
    } finally {
      client.close();
      sockets.close();
      await service.stop();
    }
    const name = `fanout ${ids.length.toLocaleString('en-US')}`;
    report.add(name, 'stored ms (median)', median(stored), {
      baseline: median(raw),
      target: at.below(300),
    });
    report.add(name, `last of ${connected} received ms`, median(lastReceipt), {
      target: at.below(500),
    });
    report.add(name, 'missed receipts', Math.max(...missed), { target: at.zero() });
    context.details.fanout = {
      users: ids.length,
      connected,
      connectFailures: sockets.failures,
      storedMs: stored,
      lastReceiptMs: lastReceipt,
      missed,
      baselineInsertMs: raw,
    };
  },
};

import { performance } from 'node:perf_hooks';
import { Worker } from 'node:worker_threads';
import type { Pool } from 'pg';
import type { BenchContext, Workload } from '../lib/context';
import { createUsers, settle } from '../lib/database';
import { HttpClient } from '../lib/http';
import { COUNT_UNREAD_SQL, listSql } from '../../src/notifications/inbox.repository';
import { closedLoop, LoopResult, rate } from '../lib/load';
import { info, progress } from '../lib/log';
import { benchFile } from '../lib/paths';
import { allOf, at } from '../lib/report';
import { summarize } from '../lib/stats';
import { BenchUser, signToken, withTokens } from '../lib/tokens';

const LIST_PATH = '/notifications/api/list/';
/** The service's connections in all (DB_POOL_MAX, whatever --workers); the baseline's pool. */
const BASELINE_POOL = 20;

interface ListPage {
  notifications: Array<{ id: number }>;
  next_cursor: string | null;
}

/**
 * `small` rows over the small users and `big` rows for one user, interleaved in time as real
 * traffic would be (so the big user's rows are spread over the table, not packed together),
 * one second apart, one in ten unread.
 */
async function seed(
  pool: Pool,
  small: number[],
  big: number,
  smallRows: number,
  bigRows: number,
  quick: boolean,
) {
  const total = smallRows + bigRows;
  const every = Math.round(total / bigRows);
  const batch = quick ? 5000 : 100_000;
  const report = progress('list: notifications seeded', total, 0);
  const started = performance.now();
  for (let low = 1; low <= total; low += batch) {
    const high = Math.min(total, low + batch - 1);
    await pool.query(
      `INSERT INTO notificaciones (usuario_id, mensaje, leida, fecha)
       SELECT CASE WHEN g % $3 = 0 THEN $4::int ELSE ($5::int[])[1 + g % cardinality($5::int[])] END,
              'Notificación de prueba número ' || g,
              g % 10 <> 0,
              now() - make_interval(secs => ($6::int + 3600 - g)::double precision)
       FROM generate_series($1::int, $2::int) AS g
       ORDER BY g`,
      [low, high, every, big, small, total],
    );
    report(high);
  }
  info(
    `list: seeded ${total.toLocaleString('en-US')} rows in ${((performance.now() - started) / 1000).toFixed(1)} s; VACUUM ANALYZE`,
  );
  await settle(pool);
}

/** Pages through the big user with limit 100; returns the cursors of the deeper half. */
async function walk(client: HttpClient, token: string, expected: number) {
  const seen = new Set<number>();
  const deep: string[] = [];
  let cursor: string | null = null;
  const started = performance.now();
  do {
    const query: string = cursor ? `?limit=100&cursor=${cursor}` : '?limit=100';
    const page: ListPage = await client.json<ListPage>('GET', `${LIST_PATH}${query}`, 200, {
      token,
    });
    for (const notification of page.notifications) seen.add(notification.id);
    cursor = page.next_cursor;
    if (cursor && seen.size >= expected / 2) deep.push(cursor);
  } while (cursor && seen.size <= expected);
  info(
    `list: paged through ${seen.size.toLocaleString('en-US')} rows of the big user in ${((performance.now() - started) / 1000).toFixed(1)} s`,
  );
  return { rows: seen.size, deep };
}

/** Plans of the list and count queries for the big user's first and a deep page. */
async function explain(pool: Pool, userId: number, depth: number): Promise<Record<string, string>> {
  const { rows } = await pool.query<{ position: string; id: string }>(
    `SELECT to_char(fecha AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS position, id
     FROM notificaciones WHERE usuario_id = $1 ORDER BY fecha DESC, id DESC OFFSET $2 LIMIT 1`,
    [userId, depth],
  );
  const plan = async (sql: string, params: unknown[]) =>
    (await pool.query<{ 'QUERY PLAN': string }>(`EXPLAIN (ANALYZE, BUFFERS) ${sql}`, params)).rows
      .map((row) => row['QUERY PLAN'])
      .join('\n');
  return {
    firstPage: await plan(listSql({ unread: false, after: false }), [userId, 21]),
    deepPage: await plan(listSql({ unread: false, after: true }), [
      userId,
      21,
      rows[0].position,
      rows[0].id,
    ]),
    countUnread: await plan(COUNT_UNREAD_SQL, [[userId]]),
  };
}

function startBaseline(
  databaseUrl: string,
): Promise<{ url: string; close: () => Promise<number> }> {
  const worker = new Worker(benchFile('lib/list-baseline-server.js'), {
    workerData: { databaseUrl, poolSize: BASELINE_POOL },
  });
  return new Promise((resolve, reject) => {
    worker.once('error', reject);
    worker.once('message', (message: { port: number }) =>
      resolve({ url: `http://127.0.0.1:${message.port}`, close: () => worker.terminate() }),
    );
  });
}

interface Phase {
  name: string;
  /** Path and query for the service; the baseline gets `user` added instead of a token. */
  next(): { user: BenchUser; query: string };
}

async function runPhase(
  context: BenchContext,
  phase: Phase,
  serviceUrl: string,
  baselineUrl: string,
) {
  const { sizes } = context;
  const drive = async (url: string, baseline: boolean, seconds: number): Promise<LoopResult> => {
    const client = new HttpClient(url, sizes.listConcurrency);
    try {
      return await closedLoop(sizes.listConcurrency, seconds * 1000, async () => {
        const { user, query } = phase.next();
        const response = baseline
          ? await client.send('GET', `/list?user=${user.id}${query ? `&${query}` : ''}`)
          : await client.send('GET', `${LIST_PATH}${query ? `?${query}` : ''}`, {
              token: user.token,
            });
        if (response.status !== 200)
          throw new Error(`list answered ${response.status}: ${response.body.slice(0, 200)}`);
      });
    } finally {
      client.close();
    }
  };
  const results: Record<'ours' | 'baseline', LoopResult> = {} as never;
  for (const [side, url] of [
    ['ours', serviceUrl],
    ['baseline', baselineUrl],
  ] as const) {
    await drive(url, side === 'baseline', sizes.warmupSeconds);
    results[side] = await drive(url, side === 'baseline', sizes.listSeconds);
    const latency = summarize(results[side].latencies);
    info(
      `${phase.name} (${side}): ${Math.round(rate(results[side].ok, results[side].elapsedMs))} req/s, ` +
        `p50 ${latency.p50.toFixed(1)} ms, p99 ${latency.p99.toFixed(1)} ms` +
        (results[side].errors > 0
          ? `, ${results[side].errors} errors (${results[side].firstError})`
          : ''),
    );
  }
  const ours = summarize(results.ours.latencies);
  const base = summarize(results.baseline.latencies);
  const perSecond = rate(results.ours.ok, results.ours.elapsedMs);
  const basePerSecond = rate(results.baseline.ok, results.baseline.elapsedMs);
  context.report.add(phase.name, 'req/s', perSecond, {
    baseline: basePerSecond,
    target: allOf(at.least(3000), at.ratioAtLeast(0.6)),
  });
  context.report.add(phase.name, 'p50 ms', ours.p50, { baseline: base.p50 });
  context.report.add(phase.name, 'p99 ms', ours.p99, { baseline: base.p99, target: at.below(30) });
  if (results.ours.errors > 0)
    context.report.add(phase.name, 'errors', results.ours.errors, { target: at.zero() });
  return {
    ours: {
      perSecond,
      errors: results.ours.errors,
      firstError: results.ours.firstError,
      latency: ours,
    },
    baseline: { perSecond: basePerSecond, errors: results.baseline.errors, latency: base },
  };
}

/** GET list at concurrency 32: first pages of many users, and first and deep pages of one big user. */
export const list: Workload = {
  name: 'list',
  async run(context) {
    const { db, sizes, secret, tag, report } = context;
    const service = await context.startService('list');
    const baseline = await startBaseline(db.url);
    const client = new HttpClient(service.url, 1);
    try {
      const smallIds = await createUsers(db.pool, `bench-${tag}-list`, sizes.listSmallUsers);
      const [bigId] = await createUsers(db.pool, `bench-${tag}-list-big`, 1);
      await seed(db.pool, smallIds, bigId, sizes.listRowsSmall, sizes.listRowsBig, context.quick);
      const small = withTokens(secret, smallIds);
      const big: BenchUser = { id: bigId, token: signToken(secret, bigId) };

      const walked = await walk(client, big.token, sizes.listRowsBig);
      report.add('list 100k user', 'rows seen paging through', walked.rows, {
        target: {
          text: `= ${sizes.listRowsBig.toLocaleString('en-US')}`,
          met: (ours) => ours === sizes.listRowsBig,
        },
      });
      const plans = await explain(db.pool, bigId, Math.floor(sizes.listRowsBig * 0.9));

      const pick = <T>(items: readonly T[]) => items[Math.floor(Math.random() * items.length)];
      const phases: Phase[] = [
        { name: 'list first pages', next: () => ({ user: pick(small), query: '' }) },
        { name: 'list 100k user first', next: () => ({ user: big, query: '' }) },
        {
          name: 'list 100k user deep',
          next: () => ({ user: big, query: `cursor=${pick(walked.deep)}` }),
        },
      ];
      const results: Record<string, unknown> = {};
      for (const phase of phases) {
        results[phase.name] = await runPhase(context, phase, service.url, baseline.url);
      }
      const first = (results['list 100k user first'] as { ours: { latency: { p50: number } } }).ours
        .latency.p50;
      const deep = (results['list 100k user deep'] as { ours: { latency: { p50: number } } }).ours
        .latency.p50;
      report.add('list 100k user', 'deep p50 / first p50', deep / first, {
        target: { text: '<= 1.2 (as fast)', met: (ours) => ours <= 1.2 },
      });
      context.details.list = {
        smallUsers: smallIds.length,
        rows: sizes.listRowsSmall + sizes.listRowsBig,
        bigUserRows: sizes.listRowsBig,
        deepCursors: walked.deep.length,
        phases: results,
        explain: plans,
      };
    } finally {
      client.close();
      await baseline.close();
      await service.stop();
    }
  },
};

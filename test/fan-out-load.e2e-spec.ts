import { readFileSync } from 'node:fs';
import { DataSource } from 'typeorm';
import { createTestDatabase, openTestDatabase, TestDatabase } from './support/database';
import { signToken } from './support/tokens';
import { redisServerAvailable, RedisServer } from './support/redis-server';
import { ServiceProcess } from './support/service-process';
import { waitFor } from './support/wait';

jest.setTimeout(240_000);

const RECIPIENTS = 10_000;
const SENDS = 20;
/**
 * The peak resident memory allowed to a service that took 20 maximal fan-outs at once. Before
 * fan-outs were bounded one such send peaked at about 600 MB, and 20 of them ran out of heap.
 */
const PEAK_RSS_MB = 400;

/** The process's peak resident set (VmHWM), in MB. */
function peakRssMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const match = /^VmHWM:\s+(\d+) kB/m.exec(status);
  if (!match) throw new Error(`no VmHWM in /proc/${pid}/status`);
  return Number(match[1]) / 1024;
}

describe('concurrent maximal fan-outs (a service process)', () => {
  let database: DataSource;
  let staffToken: string;
  let recipients: number[];
  const mensaje = 'ñ'.repeat(9_999) + '!';

  // A database of its own: what these fan-outs leave (an INSERT of a killed service may still
  // commit after the test) must not be pushed ahead of later test files' notifications.
  let own: { database: TestDatabase; stop: () => Promise<void> };

  beforeAll(async () => {
    own = await createTestDatabase();
    database = await openTestDatabase(own.database.url);
    const [staff] = await database.query<Array<{ id: number }>>(
      `INSERT INTO users (username, is_staff, is_active)
       VALUES ('fan-out-staff-' || gen_random_uuid(), true, true) RETURNING id`,
    );
    staffToken = signToken(staff.id);
    const rows = await database.query<Array<{ id: number }>>(
      `INSERT INTO users (username, is_staff, is_active)
       SELECT 'fan-out-' || gen_random_uuid(), false, true FROM generate_series(1, $1)
       RETURNING id`,
      [RECIPIENTS],
    );
    recipients = rows.map((row) => row.id);
  });
  afterAll(async () => {
    await ServiceProcess.disposeAll();
    await database?.destroy();
    await own?.stop();
  });

  async function sendAll(service: ServiceProcess) {
    const body = JSON.stringify({ usuarios: recipients, mensaje });
    return Promise.all(
      Array.from({ length: SENDS }, async () => {
        const response = await fetch(`${service.url}/notifications/api/send/`, {
          method: 'POST',
          headers: { Authorization: `Bearer ${staffToken}`, 'Content-Type': 'application/json' },
          body,
        });
        const answer = (await response.json()) as { created?: number };
        return {
          status: response.status,
          created: answer.created,
          retryAfter: response.headers.get('retry-after'),
        };
      }),
    );
  }

  async function expectSurvives(env: Record<string, string | undefined>) {
    const service = await ServiceProcess.start({
      DATABASE_URL: own.database.url,
      JWT_SECRET: process.env.JWT_SECRET,
      LOG_LEVEL: 'warn',
      ...env,
    });
    const before = Number(
      (await database.query<Array<{ count: string }>>('SELECT count(*) FROM notificaciones'))[0]
        .count,
    );

    const outcomes = await sendAll(service);

    expect(service.isRunning).toBe(true);
    for (const outcome of outcomes) {
      // Excess sends wait their turn, or are told when to come back: never a crash.
      if (outcome.status === 503) expect(Number(outcome.retryAfter)).toBeGreaterThan(0);
      else expect(outcome).toMatchObject({ status: 201, created: RECIPIENTS });
    }
    const created = outcomes.filter((outcome) => outcome.status === 201).length;
    expect(created).toBeGreaterThan(0);
    const [{ count }] = await database.query<Array<{ count: string }>>(
      'SELECT count(*) FROM notificaciones',
    );
    expect(Number(count) - before).toBe(created * RECIPIENTS);
    const peak = peakRssMb(service.pid);
    process.stderr.write(
      `fan-outs${env.REDIS_URL ? ' with Redis' : ''}: ${created} of ${SENDS} created, ` +
        `peak RSS ${peak.toFixed(0)} MB\n`,
    );
    expect(peak).toBeLessThan(PEAK_RSS_MB);
    // Still serving once the emits have gone out.
    await waitFor(
      'the service to answer /health with 200',
      async () => (await fetch(`${service.url}/health`)).status === 200,
      { timeoutMs: 60_000, intervalMs: 500 },
    );
    process.stderr.write(`peak RSS after the emits: ${peakRssMb(service.pid).toFixed(0)} MB\n`);
    await service.dispose();
  }

  afterEach(async () => {
    await ServiceProcess.disposeAll();
    // A killed service's last INSERT may still be running in PostgreSQL (a backend notices its
    // client has gone only when it answers): let it end, so its outbox row is deleted too.
    await waitFor(
      'the killed service’s statements to end',
      async () => {
        const [{ active }] = await database.query<Array<{ active: number }>>(
          `SELECT count(*)::int AS active FROM pg_stat_activity
           WHERE datname = current_database() AND pid <> pg_backend_pid() AND state = 'active'`,
        );
        return active === 0;
      },
      { timeoutMs: 60_000, intervalMs: 100 },
    );
    // The next test's service would otherwise first push what is left of these fan-outs (up to
    // 200,000 notifications of 10,000 characters). Also when a test failed.
    await database.query('DELETE FROM entregas_pendientes');
  });

  it(`keeps 20 sends of a 10,000-character mensaje to ${RECIPIENTS} users under ${PEAK_RSS_MB} MB`, async () => {
    await expectSurvives({});
  });

  const withRedis = redisServerAvailable() ? it : it.skip;
  withRedis('does the same with the Redis adapter, publishing every emit', async () => {
    const redis = await RedisServer.onFreePort();
    await redis.start();
    try {
      await expectSurvives({ REDIS_URL: redis.url });
    } finally {
      await redis.kill();
    }
  });
});

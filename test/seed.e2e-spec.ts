import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { DataSource } from 'typeorm';
import type { SeedSummary } from '../src/demo/seed';
import { openTestDatabase } from './support/database';

const run = promisify(execFile);
const CLI = join(__dirname, '..', 'dist', 'src', 'cli.js');

/** The compiled CLI against the run's test database; stdout and stderr kept apart. */
function cli(...args: string[]): Promise<{ stdout: string; stderr: string }> {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run \`npm run -s build\` first`);
  return run(process.execPath, [CLI, ...args], {
    env: {
      PATH: process.env.PATH,
      NODE_ENV: 'test',
      DATABASE_URL: process.env.DATABASE_URL,
      JWT_SECRET: process.env.JWT_SECRET,
    },
    timeout: 60_000,
  });
}

describe('cli seed', () => {
  let dataSource: DataSource;
  beforeAll(async () => {
    dataSource = await openTestDatabase();
  });
  afterAll(() => dataSource.destroy());

  it('creates demo users and dated notifications, with progress on stderr only', async () => {
    const { stdout, stderr } = await cli('seed', '--users', '6', '--notifications', '2500');
    const summary = JSON.parse(stdout) as SeedSummary;
    expect(stdout.trim().split('\n')).toHaveLength(1);
    expect(summary).toMatchObject({ users: 6, notifications: 2500, staff: ['demo-gerente'] });
    expect(summary.unread).toBeGreaterThan(0);
    expect(summary.unread).toBeLessThan(2500);
    expect(stderr).toContain('2500/2500');

    const users = await dataSource.query<
      Array<{ id: number; username: string; is_staff: boolean }>
    >(
      `SELECT id, username, is_staff FROM users
       WHERE username = ANY($1) AND is_active ORDER BY username`,
      [['demo-gerente', 'demo-cocina', 'demo-sala', 'demo-barra', 'demo-almacen', 'demo-caja']],
    );
    expect(users).toHaveLength(6);
    expect(users.filter((user) => user.is_staff).map((user) => user.username)).toEqual([
      'demo-gerente',
    ]);

    // Other tests may have notified these users too: look at what the seed wrote, by its dates.
    const [spread] = await dataSource.query<
      Array<{ count: number; oldest: Date; newest: Date; texts: string[] }>
    >(
      `SELECT count(*)::int AS count, min(fecha) AS oldest, max(fecha) AS newest,
              array_agg(DISTINCT split_part(mensaje, ' ', 1)) AS texts
       FROM notificaciones
       WHERE usuario_id = ANY($1) AND fecha < now() - interval '1 second'`,
      [users.map((user) => user.id)],
    );
    expect(spread.count).toBeGreaterThanOrEqual(2500);
    expect(Date.now() - spread.oldest.getTime()).toBeGreaterThan(3 * 24 * 3600 * 1000);
    expect(Date.now() - spread.oldest.getTime()).toBeLessThan(15 * 24 * 3600 * 1000);
    expect(spread.texts).toEqual(expect.arrayContaining(['Pedido', 'Stock', 'Gasto']));
  });

  it('keeps existing users when run again', async () => {
    const { stdout } = await cli('seed', '--users', '2', '--notifications', '10', '--days', '1');
    expect(JSON.parse(stdout)).toMatchObject({ users: 2, users_created: 0, notifications: 10 });
  });

  it('rejects bad options with usage on stderr and nothing on stdout', async () => {
    const failed = await cli('seed', '--users', 'many').catch(
      (error: { code: number; stdout: string; stderr: string }) => error,
    );
    expect(failed).toMatchObject({ code: 2, stdout: '' });
    expect((failed as { stderr: string }).stderr).toContain('--users must be a whole number');
  });
});

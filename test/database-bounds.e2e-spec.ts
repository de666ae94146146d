import { DataSource, DataSourceOptions } from 'typeorm';
import { isDatabaseUnavailable } from '../src/database/errors';
import {
  BoundedClient,
  STATEMENT_TIMEOUT_MS,
  withoutTimeouts,
} from '../src/database/bounded-client';
import { dataSourceOptions } from '../src/database/data-source';
import { runPrepared } from '../src/database/prepared';
import { TcpProxy } from './support/tcp-proxy';

/** The app's data source options, with shorter bounds so the test need not wait seconds. */
function options(url: string, bounds: Record<string, unknown>): DataSourceOptions {
  const base = dataSourceOptions(url);
  return {
    ...base,
    extra: { ...(base as { extra: object }).extra, ...bounds },
  };
}

async function failure(work: Promise<unknown>): Promise<unknown> {
  try {
    await work;
  } catch (error) {
    return error;
  }
  throw new Error('expected a failure');
}

describe('Database bounds (real PostgreSQL)', () => {
  const url = process.env.DATABASE_URL!;
  let proxy: TcpProxy;
  const opened: DataSource[] = [];

  async function open(through: string, bounds: Record<string, unknown>): Promise<DataSource> {
    const dataSource = await new DataSource(options(through, bounds)).initialize();
    opened.push(dataSource);
    return dataSource;
  }

  beforeAll(async () => {
    const target = new URL(url);
    proxy = await TcpProxy.start({ host: target.hostname, port: Number(target.port || 5432) });
  });

  afterEach(async () => {
    proxy.restore();
    await Promise.all(opened.splice(0).map((dataSource) => dataSource.destroy()));
  });

  afterAll(async () => {
    await proxy?.close();
  });

  it('sets statement_timeout on every connection, and a statement past it fails as unavailable (503)', async () => {
    const dataSource = await open(url, {});
    const [{ statement_timeout }] =
      await dataSource.query<Array<{ statement_timeout: string }>>('SHOW statement_timeout');
    expect(statement_timeout).toBe(`${STATEMENT_TIMEOUT_MS / 1000}s`);

    const runner = dataSource.createQueryRunner();
    await runner.connect();
    try {
      await runner.query('SET statement_timeout = 100');
      const error = await failure(runner.query('SELECT pg_sleep(1)'));
      expect((error as { driverError?: { code?: string } }).driverError?.code).toBe('57014');
      expect(isDatabaseUnavailable(error)).toBe(true);
    } finally {
      await runner.query('RESET statement_timeout');
      await runner.release();
    }
  });

  it.each([
    ['through TypeORM', (dataSource: DataSource) => dataSource.query('SELECT 1 AS one')],
    [
      'through the pool (prepared statements)',
      (dataSource: DataSource) => runPrepared(dataSource, 'bounds.one', 'SELECT 1 AS one', []),
    ],
  ])(
    'drops a connection whose reply is lost, and the pool serves the next query on a fresh one (%s)',
    async (_, query) => {
      const proxied = new URL(url);
      proxied.hostname = '127.0.0.1';
      proxied.port = String(proxy.port);
      // One connection only: the next query can only succeed if the stuck one was thrown away.
      const dataSource = await open(proxied.toString(), {
        max: 1,
        replyTimeoutMillis: 500,
        connectionTimeoutMillis: 500,
      });
      await expect(query(dataSource)).resolves.toBeDefined();

      proxy.drop();
      const started = Date.now();
      const error = await failure(query(dataSource));
      expect(Date.now() - started).toBeLessThan(3000);
      expect((error as Error).message).toMatch(/no reply from PostgreSQL within 500 ms/);
      expect(isDatabaseUnavailable(error)).toBe(true);

      proxy.restore();
      await expect(query(dataSource)).resolves.toBeDefined();
      await expect(query(dataSource)).resolves.toBeDefined();
    },
  );

  it('turns JIT off on every connection: compiling an index lookup costs more than running it', async () => {
    const dataSource = await open(url, {});
    const settings = await Promise.all(
      [1, 2, 3].map(() => dataSource.query<Array<{ jit: string }>>('SHOW jit')),
    );
    expect(settings.map(([row]) => row.jit)).toEqual(['off', 'off', 'off']);
  });

  it('lets maintenance work run past both bounds, then puts them back', async () => {
    const dataSource = await open(url, { max: 1, statement_timeout: 200, replyTimeoutMillis: 300 });
    const runner = dataSource.createQueryRunner();
    await runner.connect();
    try {
      await withoutTimeouts(runner, () => runner.query('SELECT pg_sleep(0.6)'));
      const shown = (await runner.query('SHOW statement_timeout')) as Array<{
        statement_timeout: string;
      }>;
      expect(shown[0].statement_timeout).toBe('200ms');
      const client = (runner as unknown as { databaseConnection: BoundedClient })
        .databaseConnection;
      expect(client).toBeInstanceOf(BoundedClient);
      expect(client.replyTimeoutMs).toBe(300);
    } finally {
      await runner.release();
    }
  });
});

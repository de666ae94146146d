import { NestExpressApplication } from '@nestjs/platform-express';
import { Test } from '@nestjs/testing';
import { DataSource } from 'typeorm';
import { AppModule } from '../../src/app.module';
import { configureApp } from '../../src/app.setup';
import { parseConfig } from '../../src/config/configuration';
import { DeliveryLeader } from '../../src/notifications/delivery/delivery-leader';
import { deliveryLeadHolder, endDeliveryLeadHolder } from './delivery';
import { waitFor } from './wait';

export interface TestApp {
  app: NestExpressApplication;
  /** e.g. http://127.0.0.1:41234 */
  url: string;
  dataSource: DataSource;
  close(): Promise<void>;
}

export interface StartOptions {
  /** Providers to replace with a value, e.g. where the logs go. */
  overrides?: Array<[token: string | symbol, value: unknown]>;
  /**
   * Which instance must lead delivery before the app is handed to the test. `this` (the
   * default): this app, as a single-instance test needs (without Redis only the leader reaches
   * its own sockets). `any`: some app of this run, as instances sharing Redis need. `later`: do
   * not wait (the test holds the lead itself, or starts the others next).
   */
  lead?: 'this' | 'any' | 'later';
}

/**
 * Boots the real AppModule on a free port, configured exactly as `main.ts` does, against the
 * run's test database, and (see `lead`) waits until delivery has a leader: a test that sent
 * before that would wait for pushes that may never come. `env` overrides the environment for
 * this app only (e.g. REDIS_URL).
 */
export async function startApp(
  env: Record<string, string | undefined> = {},
  { overrides = [], lead = 'this' }: StartOptions = {},
): Promise<TestApp> {
  const config = parseConfig({ ...process.env, PORT: '0', ...env });
  let builder = Test.createTestingModule({ imports: [AppModule.register(config)] });
  for (const [token, value] of overrides) builder = builder.overrideProvider(token).useValue(value);
  const moduleRef = await builder.compile();
  const app = moduleRef.createNestApplication<NestExpressApplication>({
    bodyParser: false,
    logger: ['error'],
  });
  configureApp(app);
  try {
    await app.listen(0, '127.0.0.1');
    const dataSource = app.get(DataSource);
    if (lead === 'this') await untilLeading(app.get(DeliveryLeader), dataSource);
    if (lead === 'any') await leaderOf(dataSource);
  } catch (error) {
    // An app that cannot serve the test must not stay behind to compete for the lead.
    await app.close();
    throw error;
  }
  const address = app.getHttpServer().address() as { port: number };
  return {
    app,
    url: `http://127.0.0.1:${address.port}`,
    dataSource: app.get(DataSource),
    close: () => app.close(),
  };
}

/**
 * Starts an app for the enclosing `describe` (in `beforeAll`, before the hooks declared after
 * this call) and closes it in `afterAll`. The object is filled in once `beforeAll` has run.
 */
export function useApp(
  env: Record<string, string | undefined> = {},
  options?: StartOptions,
): TestApp {
  const handle = {} as TestApp;
  beforeAll(async () => {
    Object.assign(handle, await startApp(env, options));
  });
  afterAll(async () => {
    await handle.close?.();
  });
  return handle;
}

/** How long a new app may wait for the lead: a previous holder's session may take seconds to end. */
const LEAD_TIMEOUT_MS = 10_000;

/**
 * Resolves once `leader` leads. Fails, naming the session that holds the lock, when another
 * process keeps it: typically an app or service an earlier test left running on this database.
 */
async function untilLeading(leader: DeliveryLeader, dataSource: DataSource): Promise<void> {
  try {
    await waitFor('this app to lead delivery', () => leader.isLeading, {
      timeoutMs: LEAD_TIMEOUT_MS,
      intervalMs: 20,
    });
  } catch {
    const holder = await deliveryLeadHolder(dataSource);
    if (!holder)
      throw new Error(`this app did not take the free delivery lead within ${LEAD_TIMEOUT_MS} ms`);
    // Said loudly, for the run's log: a session an earlier test left behind. This app's test
    // needs the lead, so that session is ended (the database is the tests' own) and the wait
    // goes on; a second failure is the test's.
    process.stderr.write(
      `warning: another session held the delivery lead for ${LEAD_TIMEOUT_MS} ms (${holder}); ` +
        'ending it so this app can lead\n',
    );
    await endDeliveryLeadHolder(dataSource);
    await waitFor('this app to lead delivery', () => leader.isLeading, {
      timeoutMs: LEAD_TIMEOUT_MS,
      intervalMs: 20,
    });
  }
}

/** Resolves once some instance leads delivery on this database. */
async function leaderOf(dataSource: DataSource): Promise<void> {
  await waitFor('an instance to lead delivery', () => deliveryLeadHolder(dataSource), {
    timeoutMs: LEAD_TIMEOUT_MS,
    intervalMs: 20,
  });
}

import { ConfigService } from '@nestjs/config';
import { NestExpressApplication } from '@nestjs/platform-express';
import { Test } from '@nestjs/testing';
import { DataSource } from 'typeorm';
import { AppModule } from '../../src/app.module';
import { configureApp } from '../../src/app.setup';
import { parseConfig } from '../../src/config/configuration';

export interface TestApp {
  app: NestExpressApplication;
  /** e.g. http://127.0.0.1:41234 */
  url: string;
  dataSource: DataSource;
  close(): Promise<void>;
}

/**
 * Boots the real AppModule on a free port, configured exactly as `main.ts` does, against the
 * run's test database. `env` overrides the environment for this app only (e.g. REDIS_URL).
 */
export async function startApp(
  env: Record<string, string | undefined> = {},
  /** Providers to replace with a value, e.g. where the logs go. */
  overrides: Array<[token: string | symbol, value: unknown]> = [],
): Promise<TestApp> {
  const config = parseConfig({ ...process.env, PORT: '0', ...env });
  let builder = Test.createTestingModule({ imports: [AppModule] })
    .overrideProvider(ConfigService)
    .useValue(new ConfigService(config));
  for (const [token, value] of overrides) builder = builder.overrideProvider(token).useValue(value);
  const moduleRef = await builder.compile();
  const app = moduleRef.createNestApplication<NestExpressApplication>({
    bodyParser: false,
    logger: ['error'],
  });
  configureApp(app);
  await app.listen(0, '127.0.0.1');
  const address = app.getHttpServer().address() as { port: number };
  return {
    app,
    url: `http://127.0.0.1:${address.port}`,
    dataSource: app.get(DataSource),
    close: () => app.close(),
  };
}

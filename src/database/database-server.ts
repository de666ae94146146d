import { Injectable, Logger, LoggerService, OnApplicationShutdown } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { ModuleRef } from '@nestjs/core';
import { DataSource } from 'typeorm';
import { AppConfig } from '../config/configuration';
import { EMBEDDED_DATABASE } from './data-source';
import { EmbeddedPostgres, startEmbeddedPostgres } from './embedded-postgres';

/**
 * The database to use: `DATABASE_URL`, or else the embedded PostgreSQL under `dataDir`, which
 * this process starts (and then owns and stops) or joins. The one place that choice is made,
 * for the app (DatabaseServer) and for commands that connect without it (`migrate`).
 */
export async function locateDatabase(
  config: Pick<AppConfig, 'databaseUrl' | 'dataDir'>,
  logger: Required<Pick<LoggerService, 'log' | 'warn'>>,
): Promise<EmbeddedPostgres> {
  if (config.databaseUrl !== undefined) {
    return { url: config.databaseUrl, owned: false, stop: () => Promise.resolve() };
  }
  return startEmbeddedPostgres(config.dataDir, EMBEDDED_DATABASE, logger);
}

/** Where the app's database is (see `locateDatabase`), and the embedded server's shutdown. */
@Injectable()
export class DatabaseServer implements OnApplicationShutdown {
  private readonly logger = new Logger(DatabaseServer.name);
  private database?: EmbeddedPostgres;

  constructor(
    private readonly config: ConfigService<AppConfig, true>,
    private readonly moduleRef: ModuleRef,
  ) {}

  /** The connection URL, starting the embedded server when `DATABASE_URL` is unset. */
  async url(): Promise<string> {
    this.database ??= await locateDatabase(
      {
        databaseUrl: this.config.get('databaseUrl', { infer: true }),
        dataDir: this.config.get('dataDir', { infer: true }),
      },
      this.logger,
    );
    return this.database.url;
  }

  async onApplicationShutdown(): Promise<void> {
    if (!this.database?.owned) return;
    // Close the pool before the server goes, whatever order Nest runs shutdown hooks in.
    const dataSource = this.moduleRef.get(DataSource, { strict: false });
    if (dataSource.isInitialized) await dataSource.destroy();
    await this.database.stop();
    this.logger.log('Embedded PostgreSQL stopped');
  }
}

import { Injectable, Logger, OnApplicationShutdown } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { ModuleRef } from '@nestjs/core';
import { DataSource } from 'typeorm';
import { AppConfig } from '../config/configuration';
import { EMBEDDED_DATABASE } from './data-source';
import { EmbeddedPostgres, startEmbeddedPostgres } from './embedded-postgres';

/** Where the database is: `DATABASE_URL`, or the embedded PostgreSQL this process starts or joins. */
@Injectable()
export class DatabaseServer implements OnApplicationShutdown {
  private readonly logger = new Logger(DatabaseServer.name);
  private embedded?: EmbeddedPostgres;

  constructor(
    private readonly config: ConfigService<AppConfig, true>,
    private readonly moduleRef: ModuleRef,
  ) {}

  /** The connection URL, starting the embedded server when `DATABASE_URL` is unset. */
  async url(): Promise<string> {
    const configured = this.config.get('databaseUrl', { infer: true });
    if (configured !== undefined) return configured;
    this.embedded ??= await startEmbeddedPostgres(
      this.config.get('dataDir', { infer: true }),
      EMBEDDED_DATABASE,
      this.logger,
    );
    return this.embedded.url;
  }

  async onApplicationShutdown(): Promise<void> {
    if (!this.embedded?.owned) return;
    // Close the pool before the server goes, whatever order Nest runs shutdown hooks in.
    const dataSource = this.moduleRef.get(DataSource, { strict: false });
    if (dataSource.isInitialized) await dataSource.destroy();
    await this.embedded.stop();
    this.logger.log('Embedded PostgreSQL stopped');
  }
}

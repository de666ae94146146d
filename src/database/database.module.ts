import { LoggerService, Module } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { TypeOrmModule } from '@nestjs/typeorm';
import { Logger as PinoLogger } from 'nestjs-pino';
import { connectWithRetry } from './connect-with-retry';
import { dataSourceOptions } from './data-source';
import { DatabaseServer } from './database-server';
import { poolPerWorker } from './pool-size';
import { AppConfig } from '../config/configuration';

@Module({ providers: [DatabaseServer], exports: [DatabaseServer] })
class DatabaseServerModule {}

// The options factory can be injected, the data source factory cannot: the options object (the
// same one is passed on) carries each app's logger across, without sharing it between apps.
const startUpLoggers = new WeakMap<object, LoggerService>();

/** The TypeORM connection, with pending migrations applied before anything else uses it. */
@Module({
  imports: [
    TypeOrmModule.forRootAsync({
      imports: [DatabaseServerModule],
      // The pino logger when the app has one (the CLI has not): it writes while Nest still
      // buffers start-up logs, so a wait for the database shows as it happens.
      inject: [DatabaseServer, ConfigService, { token: PinoLogger, optional: true }],
      useFactory: async (
        server: DatabaseServer,
        config: ConfigService<AppConfig, true>,
        logger?: PinoLogger,
      ) => {
        // This process's share of DB_POOL_MAX: one worker's, or all of it but the leader's.
        const poolMax = poolPerWorker(
          config.get('dbPoolMax', { infer: true }),
          config.get('workers', { infer: true }),
        );
        const options = {
          ...dataSourceOptions(await server.url(), poolMax),
          // connectWithRetry backs off exponentially and logs each attempt; TypeORM's own retry
          // (a fixed delay) would only multiply the attempts.
          retryAttempts: 1,
          toRetry: () => false,
        };
        if (logger) startUpLoggers.set(options, logger);
        return options;
      },
      dataSourceFactory: (options) =>
        connectWithRetry(options!, { logger: startUpLoggers.get(options!) }),
    }),
  ],
})
export class DatabaseModule {}

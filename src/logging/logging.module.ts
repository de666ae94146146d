import { Global, Inject, Injectable, Module } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { LoggerModule } from 'nestjs-pino';
import type { DestinationStream, Logger } from 'pino';
import { AppConfig } from '../config/configuration';
import { createHttpLogger, createRootLogger } from './request-logging';

/** Where log lines go: null for stdout. Tests override it to read what the app logs. */
export const LOG_DESTINATION = 'LOG_DESTINATION';
export const ROOT_LOGGER = 'ROOT_LOGGER';

/** The per-request logger middleware (one line per request) around the app's root logger. */
@Injectable()
export class RequestLogger {
  readonly middleware: ReturnType<typeof createHttpLogger>;

  constructor(@Inject(ROOT_LOGGER) root: Logger) {
    this.middleware = createHttpLogger(root);
  }
}

@Global()
@Module({
  providers: [
    { provide: LOG_DESTINATION, useValue: null },
    {
      provide: ROOT_LOGGER,
      inject: [ConfigService, LOG_DESTINATION],
      useFactory: (config: ConfigService<AppConfig, true>, destination: DestinationStream | null) =>
        createRootLogger(
          {
            logLevel: config.get('logLevel', { infer: true }),
            nodeEnv: config.get('nodeEnv', { infer: true }),
          },
          destination ?? undefined,
        ),
    },
    RequestLogger,
  ],
  exports: [ROOT_LOGGER, RequestLogger],
})
class RootLoggerModule {}

/**
 * Structured logs with nestjs-pino, for Nest's `Logger` (`app.useLogger` in `main.ts`). The
 * request logger is mounted by `configureApp` ahead of the body parser, so that requests it
 * rejects (malformed JSON, 413) are logged too. nestjs-pino's own middleware, which would keep
 * each request's logger in an AsyncLocalStorage, is mounted on no route (`forRoutes: []`): on
 * Node 20 and 22 that storage puts a hook on every promise of the process, a cost every request
 * paid for the one log a request writes while it runs, its error, which names the request
 * itself (`AllExceptionsFilter`).
 */
@Module({
  imports: [
    RootLoggerModule,
    LoggerModule.forRootAsync({
      imports: [RootLoggerModule],
      inject: [ROOT_LOGGER],
      useFactory: (root: Logger) => ({
        pinoHttp: { logger: root },
        useExisting: true,
        forRoutes: [],
      }),
    }),
  ],
})
export class LoggingModule {}

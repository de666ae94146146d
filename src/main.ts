import { Logger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { NestExpressApplication } from '@nestjs/platform-express';
import { Logger as PinoLogger } from 'nestjs-pino';
import cluster from 'node:cluster';
import { AddressInfo } from 'node:net';
import type { Logger as PinoRoot } from 'pino';
import type { Server } from 'socket.io';
import { AppModule } from './app.module';
import { configureApp } from './app.setup';
import { runPrimary } from './cluster/primary';
import { PrimaryConnections } from './cluster/worker';
import { SHUTDOWN_DEADLINE_MS } from './common/http-drain';
import { cannotListen, listeningOn } from './common/listening';
import { AppConfig, ConfigError, loadConfig } from './config/configuration';
import { ROOT_LOGGER } from './logging/logging.module';
import { SOCKET_PATH } from './websocket/socket-path';
import { SOCKET_SERVER } from './websocket/socket-server';

/**
 * Nest closes the app on SIGTERM/SIGINT (`enableShutdownHooks`) and then exits; should closing
 * hang (a pool waiting for a database that lost the connection's last bytes, for one), the
 * process still exits once `SHUTDOWN_DEADLINE_MS` has passed, saying so. Unref'd: a shutdown
 * that finishes in time is not held up by it.
 */
function armShutdownDeadline(logger: Logger, root: PinoRoot): void {
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.once(signal, () => {
      setTimeout(() => {
        logger.error(
          `Shutdown not finished ${SHUTDOWN_DEADLINE_MS / 1000} s after ${signal}: exiting now`,
        );
        // Log lines are written asynchronously: let them out first, but not for long.
        setTimeout(() => process.exit(1), 1000).unref();
        root.flush(() => process.exit(1));
      }, SHUTDOWN_DEADLINE_MS).unref();
    });
  }
}

/** The service, built as every process that serves it needs it; not serving yet. */
async function createService(
  config: AppConfig,
  role: { clusterWorker?: boolean } = {},
): Promise<NestExpressApplication> {
  // Logs from start-up are held until the pino logger is in place, then written through it.
  const app = await NestFactory.create<NestExpressApplication>(AppModule.register(config, role), {
    bodyParser: false,
    bufferLogs: true,
  });
  app.useLogger(app.get(PinoLogger));
  configureApp(app);
  armShutdownDeadline(new Logger('Bootstrap'), app.get<PinoRoot>(ROOT_LOGGER));
  return app;
}

/** `WORKERS=1`: this process is the service, listening on the port itself. */
async function serve(config: AppConfig): Promise<void> {
  const { port, host } = config;
  const app = await createService(config);
  try {
    if (host === undefined) await app.listen(port);
    else await app.listen(port, host);
  } catch (error) {
    // One line naming the keys, as for any other bad setting, and the embedded database stopped.
    process.stderr.write(cannotListen(host, port, error));
    await app.close().catch(() => undefined);
    process.exit(1);
  }
  new Logger('Bootstrap').log(
    `Listening on ${listeningOn(app.getHttpServer().address() as AddressInfo)} ` +
      `(Socket.IO path ${SOCKET_PATH}, docs at /docs)`,
  );
}

/** A worker of `WORKERS` > 1: the same service, served the connections the primary hands it. */
async function serveAsWorker(config: AppConfig): Promise<void> {
  // Before anything awaits: the primary may hand this worker connections from its first moment.
  const connections = new PrimaryConnections();
  const app = await createService(config, { clusterWorker: true });
  await app.init();
  connections.serve(app.get<Server>(SOCKET_SERVER));
}

async function bootstrap(): Promise<void> {
  // Parsed once, here: what the app mounts (the demo) depends on it, and every part reads it.
  let config: AppConfig;
  try {
    config = loadConfig();
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    // One line naming the key, not a stack trace.
    process.stderr.write(`Configuration error: ${error.message}\n`);
    process.exit(1);
  }
  if (config.workers === 1) return serve(config);
  if (cluster.isPrimary) return runPrimary(config);
  return serveAsWorker(config);
}

void bootstrap();

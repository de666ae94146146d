import { Logger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { NestExpressApplication } from '@nestjs/platform-express';
import { Logger as PinoLogger } from 'nestjs-pino';
import { AddressInfo, isIPv6 } from 'node:net';
import type { Logger as PinoRoot } from 'pino';
import { AppModule } from './app.module';
import { configureApp } from './app.setup';
import { SHUTDOWN_DEADLINE_MS } from './common/http-drain';
import { AppConfig, ConfigError, loadConfig } from './config/configuration';
import { ROOT_LOGGER } from './logging/logging.module';
import { SOCKET_PATH } from './websocket/socket-path';

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

async function bootstrap(): Promise<void> {
  const logger = new Logger('Bootstrap');
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
  const { port, host } = config;
  // Logs from start-up are held until the pino logger is in place, then written through it.
  const app = await NestFactory.create<NestExpressApplication>(AppModule.register(config), {
    bodyParser: false,
    bufferLogs: true,
  });
  app.useLogger(app.get(PinoLogger));
  configureApp(app);
  armShutdownDeadline(logger, app.get<PinoRoot>(ROOT_LOGGER));
  try {
    if (host === undefined) await app.listen(port);
    else await app.listen(port, host);
  } catch (error) {
    // A host name that does not resolve, an address not on this machine, a port in use: one
    // line naming the keys, as for any other bad setting, and the embedded database stopped.
    process.stderr.write(
      `Configuration error: cannot listen on HOST=${host ?? '(all interfaces)'} PORT=${port}: ` +
        `${(error as Error).message}\n`,
    );
    await app.close().catch(() => undefined);
    process.exit(1);
  }
  logger.log(
    `Listening on ${listeningOn(app.getHttpServer().address() as AddressInfo)} ` +
      `(Socket.IO path ${SOCKET_PATH}, docs at /docs)`,
  );
}

/**
 * Where the server really listens: its own address, not `app.getUrl()`, which names [::1] (a
 * loopback address) for a server that listens on every interface.
 */
function listeningOn({ address, port }: AddressInfo): string {
  if (address === '::' || address === '0.0.0.0') {
    return `every interface (${address}), port ${port}: http://localhost:${port} on this machine`;
  }
  return `http://${isIPv6(address) ? `[${address}]` : address}:${port}`;
}

void bootstrap();

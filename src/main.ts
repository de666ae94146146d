import { Logger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { NestExpressApplication } from '@nestjs/platform-express';
import { Logger as PinoLogger } from 'nestjs-pino';
import { AppModule } from './app.module';
import { configureApp } from './app.setup';
import { ConfigError, loadConfig } from './config/configuration';

async function bootstrap(): Promise<void> {
  const logger = new Logger('Bootstrap');
  let port: number;
  let host: string | undefined;
  try {
    ({ port, host } = loadConfig());
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    // One line naming the key, not a stack trace.
    process.stderr.write(`Configuration error: ${error.message}\n`);
    process.exit(1);
  }
  // Logs from start-up are held until the pino logger is in place, then written through it.
  const app = await NestFactory.create<NestExpressApplication>(AppModule, {
    bodyParser: false,
    bufferLogs: true,
  });
  app.useLogger(app.get(PinoLogger));
  configureApp(app);
  if (host === undefined) await app.listen(port);
  else await app.listen(port, host);
  logger.log(
    `Listening on ${await app.getUrl()} (Socket.IO path /ws/notificaciones/, docs at /docs)`,
  );
}

void bootstrap();

import { Logger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { NestExpressApplication } from '@nestjs/platform-express';
import { AppModule } from './app.module';
import { configureApp } from './app.setup';
import { ConfigError, loadConfig } from './config/configuration';

async function bootstrap(): Promise<void> {
  const logger = new Logger('Bootstrap');
  let port: number;
  try {
    ({ port } = loadConfig());
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    // One line naming the key, not a stack trace.
    process.stderr.write(`Configuration error: ${error.message}\n`);
    process.exit(1);
  }
  const app = await NestFactory.create<NestExpressApplication>(AppModule, { bodyParser: false });
  configureApp(app);
  await app.listen(port);
  logger.log(
    `Listening on ${await app.getUrl()} (Socket.IO path /ws/notificaciones/, docs at /docs)`,
  );
}

void bootstrap();

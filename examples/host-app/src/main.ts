import { NestFactory } from '@nestjs/core';
import { NotificationsSocketAdapter } from '../../../src';
import { AppModule } from './app.module';

async function bootstrap(): Promise<void> {
  const { DATABASE_URL, JWT_SECRET, REDIS_URL, PORT = '3000' } = process.env;
  if (!DATABASE_URL || !JWT_SECRET) {
    throw new Error('Set DATABASE_URL and JWT_SECRET');
  }
  const app = await NestFactory.create(
    AppModule.register({ databaseUrl: DATABASE_URL, jwtSecret: JWT_SECRET, redisUrl: REDIS_URL }),
  );
  // Serves the notifications' Socket.IO server (path /ws/notificaciones/) on the app's port.
  app.useWebSocketAdapter(new NotificationsSocketAdapter(app));
  app.enableShutdownHooks();
  await app.listen(Number(PORT));
  console.log(`Host app on http://localhost:${PORT}`);
}

void bootstrap();

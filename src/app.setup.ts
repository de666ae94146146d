import { ValidationPipe } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { HttpAdapterHost } from '@nestjs/core';
import { NestExpressApplication } from '@nestjs/platform-express';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { AllExceptionsFilter } from './common/all-exceptions.filter';
import { answerClientErrors } from './common/client-errors';
import { securityHeaders } from './common/security-headers';
import { AppConfig } from './config/configuration';
import { RequestLogger } from './logging/logging.module';
import { MetricsService } from './metrics/metrics.service';
import { RedisService } from './redis/redis.service';
import { SocketIoAdapter } from './redis/socket-io.adapter';

/** Body limit from the contract: larger bodies get 413. */
export const BODY_LIMIT = '1mb';

/**
 * Everything `main.ts` and the end-to-end tests both need on top of `AppModule`, so the tests
 * run the app exactly as production does. Create the app with `{ bodyParser: false }`.
 */
export function configureApp(app: NestExpressApplication): NestExpressApplication {
  const config = app.get<ConfigService<AppConfig, true>>(ConfigService);
  const corsOrigins = config.get('corsOrigins', { infer: true });

  // Ahead of the body parser, so requests it rejects (malformed JSON, 413) are logged and timed.
  app.use(app.get(RequestLogger).middleware, app.get(MetricsService).httpMiddleware);
  app.use(securityHeaders());
  answerClientErrors(app.getHttpServer());
  app.useBodyParser('json', { limit: BODY_LIMIT });
  app.useGlobalPipes(
    new ValidationPipe({
      whitelist: true,
      forbidNonWhitelisted: true,
      transform: true,
      // Rejects a JSON array where an object is expected, instead of validating its items.
      forbidUnknownValues: true,
      validationError: { target: false, value: false },
    }),
  );
  app.useGlobalFilters(new AllExceptionsFilter(app.get(HttpAdapterHost).httpAdapter));
  app.enableCors({ origin: corsOrigins.length > 0 ? corsOrigins : false, credentials: true });
  app.useWebSocketAdapter(new SocketIoAdapter(app, corsOrigins, app.get(RedisService)));
  app.enableShutdownHooks();
  app.set('trust proxy', 'loopback');
  app.disable('x-powered-by');

  const document = SwaggerModule.createDocument(
    app,
    new DocumentBuilder()
      .setTitle('Notificaciones')
      .setDescription(
        'Per-user notifications stored in PostgreSQL and pushed over Socket.IO ' +
          '(path /ws/notificaciones/, events notificacion_mensaje and unread_count, mark_read with ack).',
      )
      .setVersion('1.0')
      .addBearerAuth({ type: 'http', scheme: 'bearer', bearerFormat: 'JWT' })
      .build(),
  );
  SwaggerModule.setup('docs', app, document, { jsonDocumentUrl: 'docs-json' });
  return app;
}

import { ConfigService } from '@nestjs/config';
import { HttpAdapterHost } from '@nestjs/core';
import { NestExpressApplication } from '@nestjs/platform-express';
import { DocumentBuilder, OpenAPIObject, SwaggerModule } from '@nestjs/swagger';
import { bearerToken } from './auth/bearer-token';
import { TokenVerifier } from './auth/token-verifier';
import { AllExceptionsFilter } from './common/all-exceptions.filter';
import { answerClientErrors } from './common/client-errors';
import { jsonBody, RouteBodyLimit } from './common/json-body';
import { JSON_SHAPE_LIMITS } from './common/json-shape';
import { StrictValidationPipe } from './common/strict-validation.pipe';
import { requestDeadline } from './common/request-deadline';
import { securityHeaders } from './common/security-headers';
import { AppConfig } from './config/configuration';
import { DEMO_TOKEN_BODY_LIMIT } from './demo/dto/demo.dto';
import { RequestLogger } from './logging/logging.module';
import { MetricsService } from './metrics/metrics.service';
import { MARK_READ_BODY_LIMIT } from './notifications/dto/mark-read.dto';
import { SEND_BODY_LIMIT } from './notifications/dto/send.dto';
import { SocketIoAdapter } from './websocket/socket-io.adapter';
import { SOCKET_PATH } from './websocket/socket-path';
import { PUT_USER_BODY_LIMIT } from './users/dto/put-user.dto';
import { DELETE_BODY_LIMIT, MARK_UNREAD_BODY_LIMIT } from './notifications/dto/inbox.dto';
import { PREFERENCES_BODY_LIMIT } from './preferences/preferences.dto';

/**
 * Each route's JSON body limit, sized to its largest valid body (the contract caps them all at
 * 1 MiB); larger bodies get 413. Stated in the OpenAPI document and the README.
 */
export const BODY_LIMITS: readonly RouteBodyLimit[] = [
  { method: 'POST', path: '/notifications/api/mark-read', bytes: MARK_READ_BODY_LIMIT },
  { method: 'POST', path: '/notifications/api/send', bytes: SEND_BODY_LIMIT },
  { method: 'POST', path: '/demo/token', bytes: DEMO_TOKEN_BODY_LIMIT },
  { method: 'PUT', path: '/notifications/api/users/{id}', bytes: PUT_USER_BODY_LIMIT },
  { method: 'POST', path: '/notifications/api/mark-unread', bytes: MARK_UNREAD_BODY_LIMIT },
  { method: 'POST', path: '/notifications/api/delete', bytes: DELETE_BODY_LIMIT },
  { method: 'PUT', path: '/notifications/api/preferences', bytes: PREFERENCES_BODY_LIMIT },
];

/** Any other path: none takes a body. */
export const OTHER_BODY_LIMIT = 1024;

/** Every route under it needs a bearer token (the contract's authenticated API). */
const TOKEN_ROUTES = /^\/notifications\/api\//i;

function kib(bytes: number): string {
  return `${bytes / 1024} KiB`;
}

/** States each route's body limit, and the shape limits, where its request body is documented. */
function documentBodyLimits(document: OpenAPIObject): void {
  const { depth, keys, elements } = JSON_SHAPE_LIMITS;
  for (const { method, path, bytes } of BODY_LIMITS) {
    const operation = document.paths[path]?.[method.toLowerCase() as 'post'];
    if (!operation) continue;
    const limit = `JSON (UTF-8), at most ${kib(bytes)}`;
    Object.assign(operation, { 'x-body-limit-bytes': bytes });
    if (operation.requestBody && 'content' in operation.requestBody) {
      operation.requestBody.description =
        `${limit}; nested at most ${depth} levels, at most ${keys} keys per object and ` +
        `${elements} elements per array (400 beyond).`;
    }
    const tooLarge = operation.responses['413'];
    if (tooLarge && 'description' in tooLarge) {
      tooLarge.description = `The body is larger than ${kib(bytes)}`;
    }
  }
}

/**
 * Everything `main.ts` and the end-to-end tests both need on top of `AppModule`, so the tests
 * run the app exactly as production does. Create the app with `{ bodyParser: false }`.
 */
export function configureApp(app: NestExpressApplication): NestExpressApplication {
  const config = app.get<ConfigService<AppConfig, true>>(ConfigService);
  const corsOrigins = config.get('corsOrigins', { infer: true });

  // Ahead of the body parser, so requests it rejects (malformed JSON, 413) are logged and timed,
  // and the deadline counts from the request's arrival.
  app.use(
    requestDeadline(),
    app.get(RequestLogger).middleware,
    app.get(MetricsService).httpMiddleware,
  );
  app.use(securityHeaders());
  answerClientErrors(app.getHttpServer());
  const verifier = app.get(TokenVerifier);
  app.use(
    jsonBody({
      routes: BODY_LIMITS,
      otherRoutes: OTHER_BODY_LIMIT,
      // Only the signature and expiry here, no database: the guard does the rest and answers.
      refusedUnread: (req) =>
        TOKEN_ROUTES.test(req.path) &&
        verifier.subjectOf(bearerToken(req.headers.authorization)) === undefined,
    }),
  );
  app.useGlobalPipes(new StrictValidationPipe());
  app.useGlobalFilters(new AllExceptionsFilter(app.get(HttpAdapterHost).httpAdapter));
  app.enableCors({ origin: corsOrigins.length > 0 ? corsOrigins : false, credentials: true });
  app.useWebSocketAdapter(new SocketIoAdapter(app));
  app.enableShutdownHooks();
  // Off unless TRUST_PROXY names the proxies: req.ip (the per-address rate limit's key) is then
  // the client address they forward instead of theirs.
  app.set('trust proxy', config.get('trustProxy', { infer: true }));
  app.disable('x-powered-by');
  // Express hashes every response body for an ETag (SHA-1 over the whole body), for
  // revalidation that never comes: API responses are `no-store`, so no client holds a copy to
  // revalidate. The OpenAPI UI's static files keep theirs (serve-static makes its own).
  app.set('etag', false);

  const document = SwaggerModule.createDocument(
    app,
    new DocumentBuilder()
      .setTitle('Notificaciones')
      .setDescription(
        'Per-user notifications stored in PostgreSQL and pushed over Socket.IO ' +
          `(path ${SOCKET_PATH}, events notificacion_mensaje and unread_count, mark_read with ack).`,
      )
      .setVersion('1.0')
      .addBearerAuth({ type: 'http', scheme: 'bearer', bearerFormat: 'JWT' })
      .build(),
  );
  documentBodyLimits(document);
  SwaggerModule.setup('docs', app, document, { jsonDocumentUrl: 'docs-json' });
  return app;
}

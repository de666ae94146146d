import {
  BadRequestException,
  ForbiddenException,
  Injectable,
  Logger,
  OnModuleInit,
} from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { HttpAdapterHost } from '@nestjs/core';
import type { Express, NextFunction, Request, Response } from 'express';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { AppConfig } from '../config/configuration';
import { demoPolicy, isLoopbackAddress } from './demo-users';
import { DemoService } from './demo.service';

type Handler = (req: Request) => Promise<unknown>;

/** Runs an async JSON handler; errors go to Nest's exception filters, in Nest's error shape. */
function json(handler: Handler) {
  return (req: Request, res: Response, next: NextFunction): void => {
    handler(req).then((body) => void res.json(body), next);
  };
}

/** Headers a proxy adds when it relays a request: whoever sent it is elsewhere. */
const RELAYED = ['forwarded', 'x-forwarded-for', 'x-real-ip', 'via'];

/**
 * Lets through only requests whose TCP peer is this machine and that no proxy relayed. The
 * socket's address, never `req.ip`: with `trust proxy` that comes from X-Forwarded-For, which
 * any client can write. And a reverse proxy on this machine (nginx in front of a development
 * server) connects from loopback on behalf of anyone: its forwarding headers say so. Whatever
 * `HOST` is, a development server hands no remote client a token.
 */
function loopbackOnly(req: Request, _res: Response, next: NextFunction): void {
  const relayed = RELAYED.some((header) => req.headers[header] !== undefined);
  if (!relayed && isLoopbackAddress(req.socket.remoteAddress)) {
    next();
    return;
  }
  next(
    new ForbiddenException(
      'demo users and tokens are served only to this machine (open the page on localhost)',
    ),
  );
}

function userIdOf(body: unknown): number {
  const userId = (body as { user_id?: unknown } | undefined)?.user_id;
  if (typeof userId !== 'number' || !Number.isSafeInteger(userId) || userId < 1) {
    throw new BadRequestException('user_id must be a positive integer');
  }
  return userId;
}

/**
 * Mounts the demo page, and in development the demo-user routes (which answer loopback clients
 * only), only when the policy allows: disabled, they do not exist at all (404 like any unknown
 * path), rather than existing behind a check. Nest cannot add or drop controllers by configuration, and the configuration is only
 * known once the app is built, so the routes go straight onto the HTTP server at init, before
 * Nest's not-found and error handlers.
 */
@Injectable()
export class DemoRoutes implements OnModuleInit {
  private readonly logger = new Logger(DemoRoutes.name);

  constructor(
    private readonly adapterHost: HttpAdapterHost,
    private readonly config: ConfigService<AppConfig, true>,
    private readonly demo: DemoService,
  ) {}

  onModuleInit(): void {
    const adapter = this.adapterHost.httpAdapter as HttpAdapterHost['httpAdapter'] | undefined;
    if (!adapter) return;
    const policy = demoPolicy({
      nodeEnv: this.config.get('nodeEnv', { infer: true }),
      demoEnabled: this.config.get('demoEnabled', { infer: true }),
    });
    if (!policy.page) return;

    const page = readFileSync(join(__dirname, 'public', 'index.html'));
    const script = readFileSync(join(__dirname, 'public', 'inbox.js'));
    const http = adapter.getInstance<Express>();
    http.get('/', (_req, res) => {
      res.type('html').set('Cache-Control', 'no-cache').send(page);
    });
    http.get('/demo/inbox.js', (_req, res) => {
      res.type('js').set('Cache-Control', 'no-cache').send(script);
    });
    if (policy.minting) {
      http.get(
        '/demo/users',
        loopbackOnly,
        json(async () => ({ users: await this.demo.list() })),
      );
      http.post(
        '/demo/token',
        loopbackOnly,
        json(async (req) => this.demo.mint(userIdOf(req.body))),
      );
    }
    this.logger.log(
      policy.minting
        ? 'Demo inbox at / with demo users (development only)'
        : 'Demo inbox at / (DEMO_ENABLED): users paste a token',
    );
  }
}

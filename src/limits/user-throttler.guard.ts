import { ExecutionContext, Inject, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import {
  InjectThrottlerOptions,
  InjectThrottlerStorage,
  ThrottlerGuard,
  type ThrottlerModuleOptions,
  type ThrottlerOptions,
  type ThrottlerStorage,
} from '@nestjs/throttler';
import type { Request, Response } from 'express';
import { bearerToken } from '../auth/bearer-token';
import { TokenVerifier } from '../auth/token-verifier';
import {
  NOTIFICATIONS_OPTIONS,
  type ResolvedNotificationsOptions,
} from '../notifications/notifications.options';

// Load balancer probes and metric scrapes come every few seconds from one address: not abuse.
const UNLIMITED_PATHS = /^\/(health|metrics)\/?$/;
/** This module's routes: inside a host app, the only ones the limit counts (see the options). */
const NOTIFICATION_ROUTES = /^\/notifications\//i;

/**
 * The HTTP rate limit, per user: keyed by the id in a validly signed bearer token, or by the
 * client's address when there is none (so a flood of bad tokens is limited too). It runs before
 * the route's auth guard, so it checks the signature itself: a forged token cannot spend
 * someone else's budget.
 */
@Injectable()
export class UserThrottlerGuard extends ThrottlerGuard {
  constructor(
    @InjectThrottlerOptions() options: ThrottlerModuleOptions,
    @InjectThrottlerStorage() storage: ThrottlerStorage,
    reflector: Reflector,
    private readonly verifier: TokenVerifier,
    @Inject(NOTIFICATIONS_OPTIONS) private readonly settings: ResolvedNotificationsOptions,
  ) {
    super(options, storage, reflector);
  }

  /** The throttlers with fixed numbers and no hooks of their own (the module's): see `counts`. */
  private plain: Array<
    ThrottlerOptions & { name: string; limit: number; ttl: number; blockDuration?: number }
  > = [];
  /** Per route handler: whether @Throttle, @SkipThrottle and the like decorate it or its class. */
  private readonly decorated = new WeakMap<object, boolean>();

  override async onModuleInit(): Promise<void> {
    await super.onModuleInit();
    const options = Array.isArray(this.options) ? undefined : this.options;
    const isPlain = (throttler: ThrottlerOptions) =>
      typeof throttler.limit === 'number' &&
      typeof throttler.ttl === 'number' &&
      (throttler.blockDuration === undefined || typeof throttler.blockDuration === 'number') &&
      !throttler.ignoreUserAgents &&
      !throttler.getTracker &&
      !throttler.generateKey;
    this.plain =
      options && !options.ignoreUserAgents && !options.getTracker && this.throttlers.every(isPlain)
        ? (this.throttlers as typeof this.plain)
        : [];
  }

  /**
   * @nestjs/throttler's guard reads five decorators per throttler per request, and awaits a
   * dozen times; for the module's throttlers (fixed numbers, this class's tracker) on a route
   * no throttler decorator touches, `counts` does the same work at once. Anything else goes
   * through the library's own path.
   */
  override async canActivate(context: ExecutionContext): Promise<boolean> {
    if (this.plain.length === 0 || this.isDecorated(context)) return super.canActivate(context);
    if (this.skips(context)) return true;
    return this.counts(context);
  }

  private async counts(context: ExecutionContext): Promise<boolean> {
    const http = context.switchToHttp();
    const request = http.getRequest<Request>();
    const response = http.getResponse<Response>();
    const tracker = this.trackerOf(request);
    for (const throttler of this.plain) {
      if ((throttler.skipIf ?? this.commonOptions.skipIf)?.(context)) continue;
      const { name, limit, ttl } = throttler;
      const blockDuration = throttler.blockDuration ?? ttl;
      const key = this.commonOptions.generateKey!(context, tracker, name);
      const record = await this.storageService.increment(key, ttl, limit, blockDuration, name);
      const setHeaders = throttler.setHeaders ?? this.commonOptions.setHeaders ?? true;
      const suffix = name === 'default' ? '' : `-${name}`;
      if (record.isBlocked) {
        if (setHeaders) response.setHeader(`Retry-After${suffix}`, record.timeToBlockExpire);
        await this.throwThrottlingException(context, { limit, ttl, key, tracker, ...record });
      }
      if (setHeaders) {
        response.setHeader(`${this.headerPrefix}-Limit${suffix}`, limit);
        response.setHeader(
          `${this.headerPrefix}-Remaining${suffix}`,
          Math.max(0, limit - record.totalHits),
        );
        response.setHeader(`${this.headerPrefix}-Reset${suffix}`, record.timeToExpire);
      }
    }
    return true;
  }

  private isDecorated(context: ExecutionContext): boolean {
    const handler = context.getHandler();
    let decorated = this.decorated.get(handler);
    if (decorated === undefined) {
      const targets = [handler, context.getClass()];
      decorated = targets.some((target) =>
        Reflect.getMetadataKeys(target).some(
          (key) => typeof key === 'string' && key.startsWith('THROTTLER:'),
        ),
      );
      this.decorated.set(handler, decorated);
    }
    return decorated;
  }

  private skips(context: ExecutionContext): boolean {
    // Global guards run on gateway events too; sockets have limits of their own (SocketLimits).
    if (context.getType() !== 'http') return true;
    const request = context.switchToHttp().getRequest<Request>();
    const ours =
      this.settings.httpRateLimitScope === 'every-route' || NOTIFICATION_ROUTES.test(request.path);
    return !ours || UNLIMITED_PATHS.test(request.path);
  }

  private trackerOf(request: Request): string {
    const userId = this.verifier.subjectOf(bearerToken(request.headers.authorization));
    return userId !== undefined ? `user:${userId}` : `ip:${request.ip}`;
  }

  protected override shouldSkip(context: ExecutionContext): Promise<boolean> {
    return Promise.resolve(this.skips(context));
  }

  protected override getTracker(request: Request): Promise<string> {
    return Promise.resolve(this.trackerOf(request));
  }
}

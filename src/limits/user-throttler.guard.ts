import { ExecutionContext, Inject, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import {
  InjectThrottlerOptions,
  InjectThrottlerStorage,
  ThrottlerGuard,
  type ThrottlerModuleOptions,
  type ThrottlerStorage,
} from '@nestjs/throttler';
import type { Request } from 'express';
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

  protected override shouldSkip(context: ExecutionContext): Promise<boolean> {
    // Global guards run on gateway events too; sockets have limits of their own (SocketLimits).
    if (context.getType() !== 'http') return Promise.resolve(true);
    const request = context.switchToHttp().getRequest<Request>();
    const ours =
      this.settings.httpRateLimitScope === 'every-route' || NOTIFICATION_ROUTES.test(request.path);
    return Promise.resolve(!ours || UNLIMITED_PATHS.test(request.path));
  }

  protected override getTracker(request: Request): Promise<string> {
    const userId = this.verifier.subjectOf(bearerToken(request.headers.authorization));
    return Promise.resolve(userId !== undefined ? `user:${userId}` : `ip:${request.ip}`);
  }
}

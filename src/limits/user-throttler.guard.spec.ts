import { ExecutionContext, HttpException } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { SkipThrottle, ThrottlerGuard, type ThrottlerModuleOptions } from '@nestjs/throttler';
import type { TokenVerifier } from '../auth/token-verifier';
import type { ResolvedNotificationsOptions } from '../notifications/notifications.options';
import { SlidingWindowStorage } from './sliding-window-storage';
import { UserThrottlerGuard } from './user-throttler.guard';

/** What LimitsModule configures, at a small limit. */
const options = (limit: number): ThrottlerModuleOptions => ({
  throttlers: [{ name: 'default', ttl: 60_000, limit }],
  skipIf: () => false,
  generateKey: (_context, tracker, name) => `${name}:${tracker}`,
  errorMessage: `too many requests: at most ${limit} per minute, slow down`,
});

/** The library's own path, for comparison: every decorator read, every await. */
class LibraryPath extends UserThrottlerGuard {
  override canActivate(context: ExecutionContext): Promise<boolean> {
    return ThrottlerGuard.prototype.canActivate.call(this, context);
  }
}

class Routes {
  list(): void {}
  @SkipThrottle()
  skipped(): void {}
}

async function guard(Guard: typeof UserThrottlerGuard, limit: number) {
  // Tokens here are user ids; anything else is no token.
  const verifier = {
    subjectOf: (token?: string) => (token && /^\d+$/.test(token) ? Number(token) : undefined),
  } as unknown as TokenVerifier;
  const settings = { httpRateLimitScope: 'every-route' } as ResolvedNotificationsOptions;
  const instance = new Guard(
    options(limit),
    new SlidingWindowStorage(() => 1_000_000),
    new Reflector(),
    verifier,
    settings,
  );
  await instance.onModuleInit();
  return instance;
}

/** One request through a guard: allowed or the exception, and the headers it set. */
async function pass(
  instance: UserThrottlerGuard,
  {
    token,
    path = '/notifications/api/list',
    handler = Routes.prototype.list,
  }: { token?: string; path?: string; handler?: () => void },
) {
  const headers: Record<string, string> = {};
  const response = {
    setHeader: (name: string, value: unknown) => (headers[name.toLowerCase()] = String(value)),
    header: (name: string, value: unknown) => (headers[name.toLowerCase()] = String(value)),
  };
  const request = {
    path,
    ip: '10.0.0.1',
    headers: token ? { authorization: `Bearer ${token}` } : {},
  };
  const context = {
    getType: () => 'http',
    getHandler: () => handler,
    getClass: () => Routes,
    switchToHttp: () => ({ getRequest: () => request, getResponse: () => response }),
  } as unknown as ExecutionContext;
  try {
    return { allowed: await instance.canActivate(context), headers };
  } catch (error) {
    if (!(error instanceof HttpException)) throw error;
    return { status: error.getStatus(), body: error.getResponse(), headers };
  }
}

describe('UserThrottlerGuard', () => {
  it('counts, answers and sets headers exactly as the library does', async () => {
    const [lean, library] = await Promise.all([
      guard(UserThrottlerGuard, 3),
      guard(LibraryPath, 3),
    ]);
    const requests = [
      { token: '1' },
      { token: '1' },
      { token: '2' },
      { token: '1' },
      { token: '1' },
      { token: 'forged' },
      { token: 'forged' },
      { path: '/health' },
      { token: '1', path: '/metrics/' },
      { token: '2' },
      { token: '2' },
      { token: '2' },
      { token: undefined },
      { token: 'forged' },
    ];
    for (const request of requests) {
      const outcome = await pass(lean, request);
      expect(outcome).toEqual(await pass(library, request));
    }
    // And what that is: three per user, then 429 with Retry-After; bad tokens by address.
    expect(await pass(lean, { token: '3' })).toEqual({
      allowed: true,
      headers: {
        'x-ratelimit-limit': '3',
        'x-ratelimit-remaining': '2',
        'x-ratelimit-reset': '60',
      },
    });
    expect(await pass(lean, { token: '1' })).toEqual({
      status: 429,
      // The filter gives it Nest's error shape.
      body: 'too many requests: at most 3 per minute, slow down',
      headers: { 'retry-after': '60' },
    });
  });

  it('leaves a route with throttler decorators to the library', async () => {
    const lean = await guard(UserThrottlerGuard, 1);
    const skipped = { token: '9', handler: Routes.prototype.skipped };
    for (let index = 0; index < 3; index += 1) {
      expect(await pass(lean, skipped)).toEqual({ allowed: true, headers: {} });
    }
  });
});

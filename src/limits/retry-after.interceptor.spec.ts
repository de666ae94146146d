import { BadRequestException, type CallHandler, type ExecutionContext } from '@nestjs/common';
import { INTERCEPTORS_METADATA } from '@nestjs/common/constants';
import { firstValueFrom, throwError } from 'rxjs';
import { NotificationsController } from '../notifications/notifications.controller';
import { RetryLaterException } from './admission';
import { RetryAfterInterceptor } from './retry-after.interceptor';

/** An HTTP context whose response records its headers. */
function httpContext(headersSent = false) {
  const headers: Record<string, string> = {};
  const response = {
    headersSent,
    setHeader: (name: string, value: string) => (headers[name] = value),
  };
  const context = {
    getType: () => 'http',
    switchToHttp: () => ({ getResponse: () => response }),
  } as unknown as ExecutionContext;
  return { context, headers };
}

const failingWith = (error: unknown): CallHandler => ({ handle: () => throwError(() => error) });

describe('RetryAfterInterceptor', () => {
  const interceptor = new RetryAfterInterceptor();

  it('tells a client refused for load when to come back, and passes the refusal on', async () => {
    const { context, headers } = httpContext();
    const refusal = new RetryLaterException('busy', 5);
    await expect(firstValueFrom(interceptor.intercept(context, failingWith(refusal)))).rejects.toBe(
      refusal,
    );
    expect(headers).toEqual({ 'Retry-After': '5' });
  });

  it('leaves other errors, and responses already under way, alone', async () => {
    const other = httpContext();
    await expect(
      firstValueFrom(interceptor.intercept(other.context, failingWith(new BadRequestException()))),
    ).rejects.toBeInstanceOf(BadRequestException);
    expect(other.headers).toEqual({});
    const sent = httpContext(true);
    await expect(
      firstValueFrom(
        interceptor.intercept(sent.context, failingWith(new RetryLaterException('busy', 5))),
      ),
    ).rejects.toBeInstanceOf(RetryLaterException);
    expect(sent.headers).toEqual({});
  });

  it('is bound on the send route, the one whose work waits for admission', () => {
    expect(
      Reflect.getMetadata(INTERCEPTORS_METADATA, NotificationsController.prototype.send),
    ).toContain(RetryAfterInterceptor);
  });
});

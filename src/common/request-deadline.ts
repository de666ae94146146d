import {
  CallHandler,
  ExecutionContext,
  Injectable,
  NestInterceptor,
  ServiceUnavailableException,
} from '@nestjs/common';
import type { NextFunction, Request, Response } from 'express';
import { Observable, throwError, timeout } from 'rxjs';

/**
 * The contract bounds a request, not a statement: when the database answers too slowly the
 * client still hears 503 within 10 seconds. Each statement has its own bound (see database/),
 * but a request makes several in a row (the auth lookup, then its own), so a database that
 * answers each in 4 s would keep it for 12. This bounds their sum, counted from the request's
 * arrival; 9 s leaves a second for the answer to go out.
 */
export const REQUEST_DEADLINE_MS = 9_000;

/** When a client answered by the deadline should try again. */
const RETRY_AFTER_S = 5;

const arrivals = new WeakMap<Request, number>();

/** Notes when a request arrived; mounted before anything that may wait on the database. */
export function markArrival(request: Request, _response: Response, next: NextFunction): void {
  arrivals.set(request, Date.now());
  next();
}

/**
 * Answers 503 when a route's work would end past the deadline. What the route was doing goes on
 * (a statement may still commit, as when a reply is lost on the wire); its answer is dropped.
 */
@Injectable()
export class RequestDeadlineInterceptor implements NestInterceptor {
  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    if (context.getType() !== 'http') return next.handle();
    const http = context.switchToHttp();
    const arrived = arrivals.get(http.getRequest<Request>()) ?? Date.now();
    return next.handle().pipe(
      timeout({
        first: Math.max(0, arrived + REQUEST_DEADLINE_MS - Date.now()),
        with: () => {
          const response = http.getResponse<Response>();
          if (!response.headersSent) response.setHeader('Retry-After', String(RETRY_AFTER_S));
          return throwError(
            () => new ServiceUnavailableException('database unavailable, try again shortly'),
          );
        },
      }),
    );
  }
}

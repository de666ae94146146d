import { CallHandler, ExecutionContext, Injectable, NestInterceptor } from '@nestjs/common';
import type { Response } from 'express';
import { catchError, Observable, throwError } from 'rxjs';
import { RetryLaterException } from './admission';

/** Tells an HTTP client refused with RetryLaterException when to try again (`Retry-After`). */
@Injectable()
export class RetryAfterInterceptor implements NestInterceptor {
  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    return next.handle().pipe(
      catchError((error: unknown) => {
        if (error instanceof RetryLaterException && context.getType() === 'http') {
          const response = context.switchToHttp().getResponse<Response>();
          if (!response.headersSent) {
            response.setHeader('Retry-After', String(error.retryAfterSeconds));
          }
        }
        return throwError(() => error);
      }),
    );
  }
}

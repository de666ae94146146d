import { ArgumentsHost, Catch, HttpException, HttpStatus, Logger } from '@nestjs/common';
import { BaseExceptionFilter } from '@nestjs/core';
import { STATUS_CODES } from 'node:http';
import { isDatabaseUnavailable } from '../database/errors';
import type { Response } from 'express';
import { requestIdOf } from '../logging/request-logging';
import { RETRY_AFTER_S } from './request-deadline';

/**
 * Nest's error shape for everything: HTTP exceptions as thrown (Nest maps body-parser's 400
 * and 413 to them), an unreachable database as 503, and anything else as a logged 500 that
 * leaks nothing.
 */
@Catch()
export class AllExceptionsFilter extends BaseExceptionFilter {
  private readonly logger = new Logger('Exceptions');

  override catch(exception: unknown, host: ArgumentsHost): void {
    if (host.getType() !== 'http') return super.catch(exception, host);
    if (exception instanceof HttpException) return super.catch(withErrorName(exception), host);
    // The request's id, so that this line joins its request's line.
    const reqId = requestIdOf(host.switchToHttp().getRequest<object>());
    if (isDatabaseUnavailable(exception)) {
      this.logger.warn({ reqId }, `database unavailable: ${(exception as Error).message}`);
      // As the request deadline's 503 does: every 503 says when to come back.
      const response = host.switchToHttp().getResponse<Response>();
      if (!response.headersSent) response.setHeader('Retry-After', String(RETRY_AFTER_S));
      return super.catch(
        new HttpException(
          {
            statusCode: 503,
            message: 'database unavailable, try again shortly',
            error: 'Service Unavailable',
          },
          HttpStatus.SERVICE_UNAVAILABLE,
        ),
        host,
      );
    }
    this.logger.error(
      { reqId },
      exception instanceof Error ? (exception.stack ?? exception.message) : String(exception),
    );
    return super.catch(
      new HttpException(
        { statusCode: 500, message: 'Internal server error', error: 'Internal Server Error' },
        HttpStatus.INTERNAL_SERVER_ERROR,
      ),
      host,
    );
  }
}

/**
 * Exceptions built from a bare message (Nest's mapping of body-parser's 413, for one) answer
 * without the `error` field; give them the full `{statusCode, message, error}` shape.
 */
function withErrorName(exception: HttpException): HttpException {
  const response = exception.getResponse();
  if (typeof response !== 'string') return exception;
  const status = exception.getStatus();
  return new HttpException(
    { statusCode: status, message: response, error: STATUS_CODES[status] ?? 'Error' },
    status,
    { cause: exception },
  );
}

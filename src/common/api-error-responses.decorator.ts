import { applyDecorators } from '@nestjs/common';
import { ApiResponse } from '@nestjs/swagger';
import { ErrorResponseDto } from './error-response.dto';

/** The error statuses the contract lists for API routes. */
export type ApiErrorStatus = 400 | 401 | 403 | 413 | 429 | 503;

// One description and a realistic body per status, so every route documents them alike.
const ERRORS: Record<ApiErrorStatus, { description: string; example: ErrorResponseDto }> = {
  400: {
    description:
      'Invalid query or body, malformed JSON, or JSON nested deeper than 32 levels, with more ' +
      'than 1,000 keys in an object or more than 10,000 elements in an array',
    example: { statusCode: 400, message: ['ids must be an array'], error: 'Bad Request' },
  },
  401: {
    description: 'Missing, invalid or expired token, or an unknown or inactive user',
    example: { statusCode: 401, message: 'invalid or expired token', error: 'Unauthorized' },
  },
  403: {
    description: 'The caller is not staff',
    example: { statusCode: 403, message: 'staff only', error: 'Forbidden' },
  },
  413: {
    description: 'The body is larger than the route’s limit (stated with its request body)',
    example: { statusCode: 413, message: 'request entity too large', error: 'Payload Too Large' },
  },
  429: {
    description: 'Too many requests: slow down and retry later',
    example: {
      statusCode: 429,
      message: 'ThrottlerException: Too Many Requests',
      error: 'Too Many Requests',
    },
  },
  503: {
    description: 'The database is unreachable: retry shortly',
    example: {
      statusCode: 503,
      message: 'database unavailable, try again shortly',
      error: 'Service Unavailable',
    },
  },
};

/** Documents these error responses, each with Nest's error shape and an example. */
export function ApiErrorResponses(...statuses: ApiErrorStatus[]): MethodDecorator & ClassDecorator {
  return applyDecorators(
    ...statuses.map((status) => ApiResponse({ status, type: ErrorResponseDto, ...ERRORS[status] })),
  );
}

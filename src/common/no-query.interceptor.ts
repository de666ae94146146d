import {
  BadRequestException,
  CallHandler,
  ExecutionContext,
  Injectable,
  NestInterceptor,
  UseInterceptors,
} from '@nestjs/common';
import type { Request } from 'express';
import type { Observable } from 'rxjs';

/**
 * Refuses any query parameter on a route that takes none, with the 400 the list route gives an
 * unknown one: a parameter the route does not know is an error, never silently ignored.
 */
@Injectable()
export class NoQueryInterceptor implements NestInterceptor {
  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const { query } = context.switchToHttp().getRequest<Request>();
    const unknown = Object.keys(query ?? {});
    if (unknown.length > 0) {
      throw new BadRequestException(unknown.map((key) => `unknown parameter ${key}`));
    }
    return next.handle();
  }
}

/** Marks a route (or every route of a controller) as taking no query parameters. */
export const TakesNoQuery = (): ClassDecorator & MethodDecorator =>
  UseInterceptors(NoQueryInterceptor);

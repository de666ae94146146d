import { CanActivate, ExecutionContext, ForbiddenException, Injectable } from '@nestjs/common';
import type { Request } from 'express';
import { isLoopbackAddress } from './demo-users';

/** Headers a proxy adds when it relays a request: whoever sent it is elsewhere. */
const RELAYED = ['forwarded', 'x-forwarded-for', 'x-real-ip', 'via'];

/**
 * Lets through only requests whose TCP peer is this machine and that no proxy relayed. The
 * socket's address, never `req.ip`: with `trust proxy` that comes from X-Forwarded-For, which
 * any client can write. And a reverse proxy on this machine (nginx in front of a development
 * server) connects from loopback on behalf of anyone: its forwarding headers say so. Whatever
 * `HOST` is, a development server hands no remote client a token.
 */
@Injectable()
export class LoopbackOnlyGuard implements CanActivate {
  canActivate(context: ExecutionContext): boolean {
    const request = context.switchToHttp().getRequest<Request>();
    const relayed = RELAYED.some((header) => request.headers[header] !== undefined);
    if (!relayed && isLoopbackAddress(request.socket.remoteAddress)) return true;
    throw new ForbiddenException(
      'demo users and tokens are served only to this machine (open the page on localhost)',
    );
  }
}

import { CanActivate, ExecutionContext, ForbiddenException, Injectable } from '@nestjs/common';
import type { Request } from 'express';
import { isLoopbackAddress } from './demo-users';

/** Headers a proxy adds when it relays a request: whoever sent it is elsewhere. */
const RELAYED = ['forwarded', 'x-forwarded-for', 'x-real-ip', 'via'];

/**
 * True when a `Host` or `Origin` names this machine: `localhost` (or a name under it) or a
 * loopback address, with any port.
 */
function namesThisMachine(hostOrOrigin: string): boolean {
  let hostname: string;
  try {
    hostname = new URL(hostOrOrigin.includes('://') ? hostOrOrigin : `http://${hostOrOrigin}`)
      .hostname;
  } catch {
    return false;
  }
  const bare = hostname.replace(/^\[(.*)\]$/, '$1');
  return bare === 'localhost' || bare.endsWith('.localhost') || isLoopbackAddress(bare);
}

/**
 * Lets through only requests whose TCP peer is this machine and that no proxy relayed. The
 * socket's address, never `req.ip`: with `trust proxy` that comes from X-Forwarded-For, which
 * any client can write. And a reverse proxy on this machine (nginx in front of a development
 * server) connects from loopback on behalf of anyone: its forwarding headers say so. Whatever
 * `HOST` is, a development server hands no remote client a token. The request must also name
 * this machine (`Host`, and `Origin` when a browser sends one): a page from elsewhere whose
 * name was made to resolve to 127.0.0.1 (DNS rebinding) runs in a local browser, so its
 * requests come from loopback, but they carry that page's name.
 */
@Injectable()
export class LoopbackOnlyGuard implements CanActivate {
  canActivate(context: ExecutionContext): boolean {
    const request = context.switchToHttp().getRequest<Request>();
    const relayed = RELAYED.some((header) => request.headers[header] !== undefined);
    const { host, origin } = request.headers;
    const named =
      host !== undefined &&
      namesThisMachine(host) &&
      (origin === undefined || namesThisMachine(origin));
    if (!relayed && named && isLoopbackAddress(request.socket.remoteAddress)) return true;
    throw new ForbiddenException(
      'demo users and tokens are served only to this machine (open the page on localhost)',
    );
  }
}

import type { Socket } from 'socket.io';
import { bearerToken } from './bearer-token';

/** A Socket.IO handshake's token: `auth.token`, else an `Authorization: Bearer` header. */
export function handshakeToken(
  handshake: Pick<Socket['handshake'], 'auth' | 'headers'>,
): string | undefined {
  const token = (handshake.auth as { token?: unknown } | undefined)?.token;
  return typeof token === 'string' ? token : bearerToken(handshake.headers.authorization);
}

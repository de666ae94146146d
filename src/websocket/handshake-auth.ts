import { UnauthorizedException } from '@nestjs/common';
import { handshakeToken } from '../auth/handshake-token';
import { TokenVerifier } from '../auth/token-verifier';
import { watchWrites } from './socket-writes';
import { HandshakeStep, roomOf, socketUser } from './socket-user';

/**
 * Verifies the handshake's token and keeps its user on the socket: a bad token never connects
 * (guards alone do not run on connection), whatever else the handshake says.
 */
export function authenticate(verifier: TokenVerifier): HandshakeStep {
  return (socket, next) => {
    verifier.verify(handshakeToken(socket.handshake)).then(
      (user) => {
        (socket.data as { user?: unknown }).user = user;
        next();
      },
      (error: unknown) =>
        next(
          new Error(
            // A database that cannot be reached says nothing about the token: the client
            // should retry, not log its user out.
            error instanceof UnauthorizedException
              ? 'unauthorized'
              : 'service unavailable, try again shortly',
          ),
        ),
    );
  };
}

/**
 * Joins the socket to its user's room, before the client's `connect` fires: a notification
 * sent right after `connect` arrives. What the room brings waits until the gateway lets it
 * go: at once without `since`, after the replay and `catch_up` with it (see socket-writes.ts).
 * Runs after the handshake's `since` was read: that notification is never pushed again.
 */
export const joinUserRoom: HandshakeStep = (socket, next) => {
  const user = socketUser(socket);
  if (!user) {
    next(new Error('unauthorized'));
    return;
  }
  watchWrites(socket, (socket.data as { since?: number }).since);
  Promise.resolve(socket.join(roomOf(user.id))).then(
    () => next(),
    (error: unknown) => next(error as Error),
  );
};

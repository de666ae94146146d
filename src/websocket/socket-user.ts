import type { Server, Socket } from 'socket.io';
import { AuthenticatedUser } from '../auth/authenticated-user';

/** One step of the handshake: Socket.IO middleware, run in order before `connect`. */
export type HandshakeStep = Parameters<Server['use']>[0];

/** The one room a user's sockets are in: every emit to the user goes to it. */
export function roomOf(userId: number): string {
  return `user_${userId}`;
}

/** The user a socket authenticated as (set by `authenticate`); undefined before that. */
export function socketUser(socket: Socket): AuthenticatedUser | undefined {
  return (socket.data as { user?: AuthenticatedUser }).user;
}

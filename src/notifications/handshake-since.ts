import { HandshakeAuth } from './events';
import { HandshakeStep } from '../websocket/socket-user';

/** `since` as the handshake gives it: absent, or the id of the last notification the client holds. */
export function sinceFrom(auth: HandshakeAuth): number | undefined | 'invalid' {
  if (auth.since === undefined || auth.since === null) return undefined;
  const text = String(auth.since);
  return /^\d{1,15}$/.test(text) ? Number(text) : 'invalid';
}

/** Keeps the handshake's `since` on the socket for its catch-up; refuses one that is no id. */
export const readSince: HandshakeStep = (socket, next) => {
  const auth: HandshakeAuth = socket.handshake.auth ?? {};
  const since = sinceFrom(auth);
  if (since === 'invalid') {
    next(new Error('since must be the id of the last notification seen'));
    return;
  }
  (socket.data as { since?: number }).since = since;
  next();
};

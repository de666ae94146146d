import jwt from 'jsonwebtoken';
import { randomBytes } from 'node:crypto';

/** A random HS256 key for the run; the service gets it as JWT_SECRET. */
export function generateSecret(): string {
  return randomBytes(32).toString('base64url');
}

/** A token as a real issuer signs it: HS256, `sub` = the id as a string, `exp` in two hours. */
export function signToken(secret: string, userId: number): string {
  return jwt.sign({ sub: String(userId) }, secret, { algorithm: 'HS256', expiresIn: 2 * 3600 });
}

/** Users with their tokens. */
export interface BenchUser {
  id: number;
  token: string;
}

/** Signs one token per id. */
export function withTokens(secret: string, ids: readonly number[]): BenchUser[] {
  return ids.map((id) => ({ id, token: signToken(secret, id) }));
}

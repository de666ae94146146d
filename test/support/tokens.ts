import jwt from 'jsonwebtoken';
import { User } from '../../src/users/user.entity';

/** A token as a real issuer would sign it; every part can be bent to test rejection. */
export function signToken(
  sub: number | string | User,
  options: { secret?: string; expiresIn?: number; algorithm?: jwt.Algorithm; noExp?: boolean } = {},
): string {
  const subject = typeof sub === 'object' ? String(sub.id) : sub;
  const secret = options.secret ?? process.env.JWT_SECRET!;
  return jwt.sign({ sub: subject }, secret, {
    algorithm: options.algorithm ?? 'HS256',
    ...(options.noExp ? {} : { expiresIn: options.expiresIn ?? 3600 }),
  });
}

/** Bearer header for supertest/fetch. */
export function bearer(token: string): { Authorization: string } {
  return { Authorization: `Bearer ${token}` };
}

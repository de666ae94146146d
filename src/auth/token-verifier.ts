import { Injectable, UnauthorizedException } from '@nestjs/common';
import { JwtService } from '@nestjs/jwt';
import { UsersService } from '../users/users.service';
import { AuthenticatedUser } from './authenticated-user';

/** `sub` as JWT says (a string) or as some issuers send it (a number); a positive integer either way. */
export function userIdFromSubject(sub: unknown): number | undefined {
  const text = typeof sub === 'number' ? String(sub) : sub;
  if (typeof text !== 'string' || !/^[1-9]\d{0,9}$/.test(text)) return undefined;
  const id = Number(text);
  return id <= 2_147_483_647 ? id : undefined;
}

/** The one place a bearer token is checked, for both HTTP and Socket.IO. */
@Injectable()
export class TokenVerifier {
  constructor(
    private readonly jwt: JwtService,
    private readonly users: UsersService,
  ) {}

  /** Verifies an HS256 token with `exp` and returns its active user, or throws 401. */
  async verify(token: string | undefined): Promise<AuthenticatedUser> {
    if (!token) throw new UnauthorizedException('missing bearer token');
    let payload: { sub?: unknown; exp?: unknown };
    try {
      // Pinning the algorithm rules out `none` and key-confusion tricks.
      payload = await this.jwt.verifyAsync(token, { algorithms: ['HS256'] });
    } catch {
      throw new UnauthorizedException('invalid or expired token');
    }
    // jsonwebtoken accepts a token without `exp`; the contract does not.
    if (typeof payload.exp !== 'number') throw new UnauthorizedException('token has no exp');
    const id = userIdFromSubject(payload.sub);
    if (id === undefined) throw new UnauthorizedException('token has no valid sub');
    const user = await this.users.findActive(id);
    if (!user) throw new UnauthorizedException('unknown or inactive user');
    return {
      id: user.id,
      username: user.username,
      isStaff: user.isStaff,
      expiresAt: payload.exp * 1000,
    };
  }

  /**
   * The user id of a validly signed, unexpired token, without looking the user up; undefined
   * for anything else. Cheap enough to key rate limits by, before authentication proper.
   */
  subjectOf(token: string | undefined): number | undefined {
    if (!token) return undefined;
    try {
      const payload = this.jwt.verify<{ sub?: unknown; exp?: unknown }>(token, {
        algorithms: ['HS256'],
      });
      return typeof payload.exp === 'number' ? userIdFromSubject(payload.sub) : undefined;
    } catch {
      return undefined;
    }
  }

  /** A signed token for this user, valid for `ttlSeconds`: what the CLI hands out. */
  sign(userId: number, ttlSeconds: number): string {
    return this.jwt.sign({ sub: String(userId) }, { algorithm: 'HS256', expiresIn: ttlSeconds });
  }
}

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

/**
 * RFC 7515 §4.1.11: `crit` names header extensions a recipient must understand or else reject
 * the token. This service understands none, and jsonwebtoken does not look at `crit`.
 */
export function hasCriticalHeader(token: string): boolean {
  try {
    const header: unknown = JSON.parse(Buffer.from(token.split('.')[0], 'base64url').toString());
    return typeof header === 'object' && header !== null && 'crit' in header;
  } catch {
    // Not a JWT at all: verification says so.
    return false;
  }
}

/** What a token proved, once its signature and claims have been checked. */
interface VerifiedToken {
  userId: number;
  /** `exp` in ms since the epoch. */
  expiresAt: number;
}

// Tokens whose signature was already checked, so that a client's next requests (and the rate
// limiter, which reads the token before the auth guard) skip the HMAC and JSON parsing.
const VERIFIED_TOKENS_KEPT = 10_000;

/** The one place a bearer token is checked, for both HTTP and Socket.IO. */
@Injectable()
export class TokenVerifier {
  private readonly verified = new Map<string, VerifiedToken>();

  constructor(
    private readonly jwt: JwtService,
    private readonly users: UsersService,
  ) {}

  /** Verifies an HS256 token with `exp` and returns its active user, or throws 401. */
  async verify(token: string | undefined): Promise<AuthenticatedUser> {
    if (!token) throw new UnauthorizedException('missing bearer token');
    const { userId, expiresAt } = this.check(token);
    // The user is looked up every time: deactivating one takes effect on its next request.
    const user = await this.users.findActive(userId);
    if (!user) throw new UnauthorizedException('unknown or inactive user');
    return { id: user.id, username: user.username, isStaff: user.isStaff, expiresAt };
  }

  /**
   * The user id of a validly signed, unexpired token, without looking the user up; undefined
   * for anything else. Cheap enough to key rate limits by, before authentication proper.
   */
  subjectOf(token: string | undefined): number | undefined {
    if (!token) return undefined;
    try {
      return this.check(token).userId;
    } catch {
      return undefined;
    }
  }

  /** Signature, algorithm, `exp` and `sub` of a token, or 401 saying which is wrong. */
  private check(token: string): VerifiedToken {
    const known = this.verified.get(token);
    if (known) {
      if (known.expiresAt > Date.now()) return known;
      this.verified.delete(token);
    }
    if (hasCriticalHeader(token)) throw new UnauthorizedException('token has a crit header');
    let payload: { sub?: unknown; exp?: unknown };
    try {
      // Pinning the algorithm rules out `none` and key-confusion tricks.
      payload = this.jwt.verify(token, { algorithms: ['HS256'] });
    } catch {
      throw new UnauthorizedException('invalid or expired token');
    }
    // jsonwebtoken accepts a token without `exp`; the contract does not.
    if (typeof payload.exp !== 'number') throw new UnauthorizedException('token has no exp');
    const userId = userIdFromSubject(payload.sub);
    if (userId === undefined) throw new UnauthorizedException('token has no valid sub');
    const result = { userId, expiresAt: payload.exp * 1000 };
    if (this.verified.size >= VERIFIED_TOKENS_KEPT) {
      // Maps iterate in insertion order: forget the oldest.
      this.verified.delete(this.verified.keys().next().value!);
    }
    this.verified.set(token, result);
    return result;
  }

  /** A signed token for this user, valid for `ttlSeconds`: what the CLI hands out. */
  sign(userId: number, ttlSeconds: number): string {
    return this.jwt.sign({ sub: String(userId) }, { algorithm: 'HS256', expiresIn: ttlSeconds });
  }
}

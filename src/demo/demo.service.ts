import { ForbiddenException, Injectable, NotFoundException } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { TokenVerifier } from '../auth/token-verifier';
import { AppConfig } from '../config/configuration';
import { User } from '../users/user.entity';
import { UsersService } from '../users/users.service';
import { DEMO_USERNAME_PREFIX, DEMO_USERS, demoPolicy } from './demo-users';
import { DemoUserDto, MintedTokenDto } from './dto/demo.dto';

/** Minted demo tokens are short-lived; the page renews them before they expire. */
export const DEMO_TOKEN_TTL_SECONDS = 15 * 60;

const LISTED_USERS = 100;

function toDemoUser(user: User): DemoUserDto {
  return { id: user.id, username: user.username, is_staff: user.isStaff };
}

/** The development-only side of the demo page: its users and their tokens. */
@Injectable()
export class DemoService {
  constructor(
    private readonly users: UsersService,
    private readonly verifier: TokenVerifier,
    private readonly config: ConfigService<AppConfig, true>,
  ) {}

  /** The active demo users, staff first; creates the basic set on a fresh database. */
  async list(): Promise<DemoUserDto[]> {
    await this.users.ensureMany(DEMO_USERS);
    const users = await this.users.listActiveByPrefix(DEMO_USERNAME_PREFIX, LISTED_USERS);
    return users.map(toDemoUser);
  }

  /** A short-lived token for an active demo user; never in production, whatever is enabled. */
  async mint(userId: number): Promise<MintedTokenDto> {
    // The route does not exist in production; this holds even if it were ever wired there.
    const policy = demoPolicy({
      nodeEnv: this.config.get('nodeEnv', { infer: true }),
      demoEnabled: this.config.get('demoEnabled', { infer: true }),
    });
    if (!policy.minting) {
      throw new ForbiddenException('demo tokens are never minted in production');
    }
    const user = await this.users.findActive(userId);
    // Only demo users: a development server reachable by others must not hand out real users.
    if (!user?.username.startsWith(DEMO_USERNAME_PREFIX)) {
      throw new NotFoundException(`no active demo user with id ${userId}`);
    }
    return {
      token: this.verifier.sign(user.id, DEMO_TOKEN_TTL_SECONDS),
      expires_in: DEMO_TOKEN_TTL_SECONDS,
      user: toDemoUser(user),
    };
  }
}

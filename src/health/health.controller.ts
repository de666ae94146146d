import { Controller, Get } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import {
  HealthCheck,
  HealthCheckResult,
  HealthCheckService,
  HealthIndicatorFunction,
  HealthIndicatorService,
} from '@nestjs/terminus';
import { NotificationsService } from '../notifications/notifications.service';
import { RedisService } from '../redis/redis.service';
import { UsersService } from '../users/users.service';

/**
 * How long the database probe may take. Short, so that a probe answers 503 well within a load
 * balancer's own timeout while the database is stuck, instead of waiting out the requests' bound.
 */
export const DATABASE_PROBE_TIMEOUT_MS = 2000;

/** Rejects with `message` when `work` takes longer than `timeoutMs`. */
async function within<T>(work: Promise<T>, timeoutMs: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(message)), timeoutMs);
  });
  try {
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

@ApiTags('health')
@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly indicators: HealthIndicatorService,
    private readonly users: UsersService,
    private readonly notifications: NotificationsService,
    private readonly redis: RedisService,
  ) {}

  /**
   * 200 when PostgreSQL (and Redis, when configured) answer through the path requests take;
   * 503 otherwise.
   */
  @Get()
  @HealthCheck()
  @ApiOperation({
    summary:
      'Readiness: 200 when PostgreSQL (and Redis, when configured) answer through the path ' +
      `requests use, else 503 (the database probe waits at most ${DATABASE_PROBE_TIMEOUT_MS} ms)`,
  })
  check(): Promise<HealthCheckResult> {
    const checks: HealthIndicatorFunction[] = [() => this.checkDatabase()];
    if (this.redis.enabled) {
      checks.push(async () => {
        const indicator = this.indicators.check('redis');
        try {
          await this.redis.ping(1000);
          return indicator.up();
        } catch (error) {
          return indicator.down({ message: (error as Error).message });
        }
      });
    }
    return this.health.check(checks);
  }

  /**
   * The database as requests see it: the coalesced auth lookup every request and handshake
   * waits for, and the coalesced unread count every handshake waits for, on the same pool. A
   * ping on a connection of its own would answer while those are stuck behind a lost reply.
   * User id 0 never exists: both answer without touching a row.
   */
  private async checkDatabase() {
    const indicator = this.indicators.check('database');
    try {
      await within(
        Promise.all([this.users.findActive(0), this.notifications.countUnread(0)]),
        DATABASE_PROBE_TIMEOUT_MS,
        `no answer within ${DATABASE_PROBE_TIMEOUT_MS} ms`,
      );
      return indicator.up();
    } catch (error) {
      return indicator.down({ message: (error as Error).message });
    }
  }
}

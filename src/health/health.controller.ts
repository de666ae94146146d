import { Controller, Get } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import {
  HealthCheck,
  HealthCheckResult,
  HealthCheckService,
  HealthIndicatorFunction,
  HealthIndicatorService,
  TypeOrmHealthIndicator,
} from '@nestjs/terminus';
import { RedisService } from '../redis/redis.service';

@ApiTags('health')
@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly database: TypeOrmHealthIndicator,
    private readonly indicators: HealthIndicatorService,
    private readonly redis: RedisService,
  ) {}

  /** 200 when PostgreSQL (and Redis, when configured) answer; 503 otherwise. */
  @Get()
  @HealthCheck()
  @ApiOperation({
    summary: 'Readiness: 200 when PostgreSQL (and Redis, when configured) answer, else 503',
  })
  check(): Promise<HealthCheckResult> {
    const checks: HealthIndicatorFunction[] = [
      () => this.database.pingCheck('database', { timeout: 1500 }),
    ];
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
}

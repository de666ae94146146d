import { ConsoleLogger, HttpException, INestApplicationContext, LogLevel } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { parseArgs } from 'node:util';
import { DataSource } from 'typeorm';
import { TokenVerifier } from './auth/token-verifier';
import { CliModule } from './cli.module';
import { AppConfig, ConfigError, loadConfig } from './config/configuration';
import { dataSourceOptions, EMBEDDED_DATABASE, runMigrations } from './database/data-source';
import { progressBar, seed } from './demo/seed';
import { startEmbeddedPostgres } from './database/embedded-postgres';
import { IdempotencyService } from './idempotency/idempotency.service';
import { NotificationsService } from './notifications/notifications.service';
import { UsersService } from './users/users.service';

const USAGE = `usage: npm run -s cli -- <command>
  user:create <username> [--staff]   create an active user
  token <username> [--ttl <seconds>] print a signed JWT for that user (default ttl 3600)
  notify <username> <mensaje...> [--tipo T] [--url U]
                                     store a notification; a running server delivers it live
  purge [--days N]                   delete notifications older than N days, N >= 1 (default
                                     RETENTION_DAYS; when that is 0, purging is off)
  migrate                            apply pending migrations
  seed [--users 50] [--notifications 5000] [--days 14]
                                     demo users (demo-gerente is staff) and realistic notifications`;

/** Logs go to stderr, so stdout carries only the command's JSON or token. */
class StderrLogger extends ConsoleLogger {
  protected override printMessages(
    messages: unknown[],
    context?: string,
    logLevel?: LogLevel,
  ): void {
    super.printMessages(messages, context, logLevel, 'stderr');
  }
}

class UsageError extends Error {}

function wholeNumber(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!/^\d+$/.test(value)) throw new UsageError(`--${name} must be a whole number`);
  return Number(value);
}

/** The same bound as RETENTION_DAYS: a hundred years. */
const MAX_DAYS = 36_500;

/**
 * The age past which `purge` deletes, or undefined when purging is off. `--days` must be at
 * least 1: 0 would mean "everything", which no reading of the retention setting asks for.
 * Without it, RETENTION_DAYS decides, and its 0 means off, as it does for the daily job.
 */
function purgeDays(days: string | undefined, retentionDays: number): number | undefined {
  if (days === undefined) return retentionDays === 0 ? undefined : retentionDays;
  const value = wholeNumber('days', days, 0);
  if (value < 1 || value > MAX_DAYS) {
    throw new UsageError(`--days must be a whole number from 1 to ${MAX_DAYS}`);
  }
  return value;
}

async function withContext<T>(work: (app: INestApplicationContext) => Promise<T>): Promise<T> {
  const app = await NestFactory.createApplicationContext(CliModule, {
    logger: new StderrLogger({ logLevels: ['error', 'warn'] }),
    abortOnError: false,
  });
  try {
    return await work(app);
  } finally {
    await app.close();
  }
}

/** Applies pending migrations without booting the app, and names them. */
async function migrate(config: AppConfig): Promise<string[]> {
  const embedded =
    config.databaseUrl === undefined
      ? await startEmbeddedPostgres(config.dataDir, EMBEDDED_DATABASE, new StderrLogger('Database'))
      : undefined;
  const dataSource = await new DataSource(
    dataSourceOptions(embedded?.url ?? config.databaseUrl!),
  ).initialize();
  try {
    return await runMigrations(dataSource);
  } finally {
    await dataSource.destroy();
    await embedded?.stop();
  }
}

async function main(argv: string[]): Promise<string> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      staff: { type: 'boolean' },
      ttl: { type: 'string' },
      days: { type: 'string' },
      users: { type: 'string' },
      notifications: { type: 'string' },
      tipo: { type: 'string' },
      url: { type: 'string' },
    },
  });
  const [command, ...rest] = positionals;
  const config = loadConfig();
  switch (command) {
    case 'user:create': {
      if (rest.length !== 1) throw new UsageError('user:create takes one username');
      return withContext(async (app) => {
        const user = await app.get(UsersService).create(rest[0], values.staff ?? false);
        return JSON.stringify({ id: user.id, username: user.username, is_staff: user.isStaff });
      });
    }
    case 'token': {
      if (rest.length !== 1) throw new UsageError('token takes one username');
      const ttl = wholeNumber('ttl', values.ttl, 3600);
      if (ttl < 1) throw new UsageError('--ttl must be at least 1 second');
      return withContext(async (app) => {
        const user = await app.get(UsersService).getByUsername(rest[0]);
        return app.get(TokenVerifier).sign(user.id, ttl);
      });
    }
    case 'notify': {
      if (rest.length < 2) throw new UsageError('notify takes a username and a message');
      return withContext(async (app) => {
        const user = await app.get(UsersService).getByUsername(rest[0]);
        const created = await app
          .get(NotificationsService)
          .notificarUsuario(user, rest.slice(1).join(' '), { tipo: values.tipo, url: values.url });
        return JSON.stringify({
          id: created.id,
          usuario: created.usuarioId,
          mensaje: created.mensaje,
          leida: created.leida,
          fecha: created.fecha.toISOString(),
          tipo: created.tipo,
          url: created.url,
          datos: created.datos,
        });
      });
    }
    case 'purge': {
      const days = purgeDays(values.days, config.retentionDays);
      if (days === undefined) {
        process.stderr.write(
          'purging is off (RETENTION_DAYS=0): nothing deleted; pass --days N to purge anyway\n',
        );
        return JSON.stringify({ deleted: 0, purging: 'off' });
      }
      return withContext(async (app) => {
        const keys = await app.get(IdempotencyService).purgeExpired();
        process.stderr.write(`purged ${keys} idempotency keys past 24 hours\n`);
        return JSON.stringify({
          deleted: await app.get(NotificationsService).purgeOlderThan(days),
        });
      });
    }
    case 'seed': {
      const options = {
        users: wholeNumber('users', values.users, 50),
        notifications: wholeNumber('notifications', values.notifications, 5000),
        days: wholeNumber('days', values.days, 14),
      };
      if (options.users < 1 || options.days < 1) {
        throw new UsageError('--users and --days must be at least 1');
      }
      return withContext(async (app) => {
        const services = {
          users: app.get(UsersService),
          notifications: app.get(NotificationsService),
        };
        return JSON.stringify(await seed(services, options, progressBar(process.stderr, 'seed')));
      });
    }
    case 'migrate':
      return JSON.stringify({ applied: await migrate(config) });
    default:
      throw new UsageError(
        command === undefined ? 'no command given' : `unknown command "${command}"`,
      );
  }
}

main(process.argv.slice(2)).then(
  (output) => {
    process.stdout.write(`${output}\n`);
    process.exit(0);
  },
  (error: unknown) => {
    if (error instanceof UsageError) {
      process.stderr.write(`${error.message}\n${USAGE}\n`);
      process.exit(2);
    }
    const message =
      error instanceof HttpException || error instanceof ConfigError || error instanceof Error
        ? error.message
        : String(error);
    process.stderr.write(`error: ${message}\n`);
    process.exit(1);
  },
);

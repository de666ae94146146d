import { DataSource } from 'typeorm';
import { seed as seedDemo } from '../demo/seed';
import { IdempotencyService } from '../idempotency/idempotency.service';
import { NotificationsService } from '../notifications/notifications.service';
import { UsersService } from '../users/users.service';
import { CommandInput, UsageError, wholeNumber } from './arguments';
import { CliModule } from './cli.module';
import { withContext } from './context';
import { deliveryLeaderRuns } from './delivery-leader-check';
import { progressBar } from './progress-bar';

const NO_SERVICE =
  'notify: stored, but no service is running on this database, so no open tab gets it now; ' +
  'a tab lists it (or catches up on it) when it connects to one\n';

export function notify({ args, options, config }: CommandInput): Promise<string> {
  if (args.length < 2) throw new UsageError('notify takes a username and a message');
  return withContext(CliModule.register(config), async (app) => {
    const user = await app.get(UsersService).getByUsername(args[0]);
    const created = await app
      .get(NotificationsService)
      .notificarUsuario(user, args.slice(1).join(' '), { tipo: options.tipo, url: options.url });
    if (!(await deliveryLeaderRuns(app.get(DataSource)))) process.stderr.write(NO_SERVICE);
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

export async function purge({ options, config }: CommandInput): Promise<string> {
  const days = purgeDays(options.days, config.retentionDays);
  if (days === undefined) {
    process.stderr.write(
      'purging is off (RETENTION_DAYS=0): nothing deleted; pass --days N to purge anyway\n',
    );
    return JSON.stringify({ deleted: 0, purging: 'off' });
  }
  return withContext(CliModule.register(config), async (app) => {
    const keys = await app.get(IdempotencyService).purgeExpired();
    process.stderr.write(`purged ${keys} idempotency keys past 24 hours\n`);
    return JSON.stringify({ deleted: await app.get(NotificationsService).purgeOlderThan(days) });
  });
}

export function seed({ options, config }: CommandInput): Promise<string> {
  const wanted = {
    users: wholeNumber('users', options.users, 50),
    notifications: wholeNumber('notifications', options.notifications, 5000),
    days: wholeNumber('days', options.days, 14),
  };
  if (wanted.users < 1 || wanted.days < 1) {
    throw new UsageError('--users and --days must be at least 1');
  }
  return withContext(CliModule.register(config), async (app) => {
    const services = {
      users: app.get(UsersService),
      notifications: app.get(NotificationsService),
    };
    return JSON.stringify(await seedDemo(services, wanted, progressBar(process.stderr, 'seed')));
  });
}

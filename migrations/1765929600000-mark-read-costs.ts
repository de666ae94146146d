import { MigrationInterface, QueryRunner } from 'typeorm';

/** The checks as the notification-kinds and initial-schema migrations wrote them. */
const OLD_CHECKS = {
  mensaje_length: `char_length(mensaje) BETWEEN 1 AND 10000`,
  tipo_format: `tipo ~ '^[a-z0-9_-]{1,50}$'`,
  url_length: `char_length(url) <= 2000`,
};

/**
 * The same rules, cheap to check. PostgreSQL checks every CHECK again on every UPDATE, whatever
 * it changes, so marking rows read paid for them row by row: the `{1,50}` repetition made the
 * regular expression several microseconds a row (40 ms of a 10,000-row mark-read), and
 * `char_length` detoasts a long `mensaje` (a 10,000-row mark-read of 8,000-character messages
 * spent nine tenths of its time reading them back). `varchar(50)` already bounds `tipo`, and a
 * text of at most N bytes has at most N characters, so the byte length (read from the value's
 * header, without detoasting) settles nearly every row and `char_length` is left for the rare
 * long multibyte text.
 */
const NEW_CHECKS = {
  mensaje_length: `mensaje <> '' AND (octet_length(mensaje) <= 10000 OR char_length(mensaje) <= 10000)`,
  tipo_format: `tipo ~ '^[a-z0-9_-]+$'`,
  url_length: `octet_length(url) <= 2000 OR char_length(url) <= 2000`,
};

/**
 * What marking notifications read costs, cut to what the queries need. `leida` is in the
 * contract's index, so no update of a notification is HOT: each one writes a new entry in every
 * index of the table. Two indexes had work another can do:
 * - `(usuario_id, fecha DESC, id DESC)`: a page of all rows merges the contract's index's unread
 *   and read ranges, each already in `fecha` order (InboxRepository.listSql);
 * - the BRIN on `fecha`: the purge walks each user's old rows in the contract's index
 *   (NotificationsRepository.deleteOlderThan), where the BRIN stopped narrowing anything once
 *   purged pages were reused by new rows.
 * Kept: the primary key, the contract's index, and `(usuario_id, id)` for catch-up (BENCHMARKS.md,
 * "Mark-all-read against Django's schema", has the figures; test/query-plans.e2e-spec.ts shows
 * each statement's index). Outside a transaction, as the notification-kinds migration: the
 * checks are swapped under a short lock and validated under one that lets reads and writes go
 * on, and the indexes dropped CONCURRENTLY; every step is safe to run again.
 */
export class MarkReadCosts1765929600000 implements MigrationInterface {
  name = 'MarkReadCosts1765929600000';
  transaction = false;

  public async up(queryRunner: QueryRunner): Promise<void> {
    await replaceChecks(queryRunner, NEW_CHECKS);
    await queryRunner.query(`SET lock_timeout = '5s'`);
    try {
      await queryRunner.query(
        'DROP INDEX CONCURRENTLY IF EXISTS notificaciones_usuario_fecha_id_idx',
      );
      await queryRunner.query('DROP INDEX CONCURRENTLY IF EXISTS notificaciones_fecha_brin_idx');
    } finally {
      await queryRunner.query('RESET lock_timeout');
    }
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    // `typeorm migration:revert` runs a revert in a transaction unless given `-t none`.
    const concurrently = queryRunner.isTransactionActive ? '' : 'CONCURRENTLY';
    await queryRunner.query(
      `CREATE INDEX ${concurrently} IF NOT EXISTS notificaciones_usuario_fecha_id_idx
         ON notificaciones (usuario_id, fecha DESC, id DESC)`,
    );
    await queryRunner.query(
      `CREATE INDEX ${concurrently} IF NOT EXISTS notificaciones_fecha_brin_idx
         ON notificaciones USING brin (fecha)`,
    );
    await replaceChecks(queryRunner, OLD_CHECKS);
  }
}

/**
 * Replaces the checks by name: dropped and added NOT VALID in one ALTER (a short lock; queued
 * behind a long transaction it gives up rather than stall every query on the table, and the next
 * start tries again), then validated under a lock that lets reads and writes go on.
 */
async function replaceChecks(
  queryRunner: QueryRunner,
  checks: Record<string, string>,
): Promise<void> {
  const names = Object.keys(checks);
  await queryRunner.query(`SET lock_timeout = '5s'`);
  try {
    await queryRunner.query(
      `ALTER TABLE notificaciones ${names
        .map(
          (name) =>
            `DROP CONSTRAINT IF EXISTS notificaciones_${name},
             ADD CONSTRAINT notificaciones_${name} CHECK (${checks[name]}) NOT VALID`,
        )
        .join(',\n')}`,
    );
    for (const name of names) {
      await queryRunner.query(
        `ALTER TABLE notificaciones VALIDATE CONSTRAINT notificaciones_${name}`,
      );
    }
  } finally {
    await queryRunner.query('RESET lock_timeout');
  }
}

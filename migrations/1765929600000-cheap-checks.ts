import { MigrationInterface, QueryRunner } from 'typeorm';

/** The checks as the initial-schema and notification-kinds migrations wrote them. */
const WRITTEN = {
  mensaje_length: `char_length(mensaje) BETWEEN 1 AND 10000`,
  tipo_format: `tipo ~ '^[a-z0-9_-]{1,50}$'`,
  url_length: `char_length(url) <= 2000`,
};

/**
 * The same rules, cheap to check. Every INSERT checks them row by row, and every UPDATE checks
 * them all again whatever it changes (marking read included). On a 10,000-row fan-out INSERT
 * they cost about 27 ms of 85, 20 of them the `{1,50}` repetition of the regular expression;
 * and `char_length` reads a long `mensaje` back from TOAST on every mark-read. `varchar(50)` already
 * bounds `tipo`; a text of at most N bytes has at most N characters, so the byte length (in the
 * value's header) settles nearly every row, and `char_length` is left for long multibyte texts.
 */
const CHEAP = {
  mensaje_length: `mensaje <> '' AND (octet_length(mensaje) <= 10000 OR char_length(mensaje) <= 10000)`,
  tipo_format: `tipo ~ '^[a-z0-9_-]+$'`,
  url_length: `octet_length(url) <= 2000 OR char_length(url) <= 2000`,
};

/**
 * Swaps the checks of `notificaciones` for cheaper ones enforcing the same rules. Outside a
 * transaction, as the notification-kinds migration: the swap takes a short lock, validation one
 * that lets reads and writes go on, and every step is safe to run again.
 */
export class CheapChecks1765929600000 implements MigrationInterface {
  name = 'CheapChecks1765929600000';
  transaction = false;

  public async up(queryRunner: QueryRunner): Promise<void> {
    await replaceChecks(queryRunner, CHEAP);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await replaceChecks(queryRunner, WRITTEN);
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

import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * `tipo`, `url` and `datos` on every notification, added without rewriting the table or holding
 * it locked: a constant default and nullable columns are catalogue changes only (PostgreSQL 11+),
 * and the checks are added NOT VALID (enforced from now on, under the same short lock) and then
 * validated under a lock that lets reads and writes go on. Outside a transaction, so that lock is
 * not held until the end; each statement is safe to run again if a previous try stopped midway.
 */
export class NotificationKinds1765584000000 implements MigrationInterface {
  name = 'NotificationKinds1765584000000';
  transaction = false;

  public async up(queryRunner: QueryRunner): Promise<void> {
    // Queued behind a long transaction, the ALTER would stall every query on the table: give up
    // instead (the next start tries again).
    await queryRunner.query(`SET lock_timeout = '5s'`);
    try {
      await queryRunner.query(`
        ALTER TABLE notificaciones
          ADD COLUMN IF NOT EXISTS tipo varchar(50) NOT NULL DEFAULT 'general',
          ADD COLUMN IF NOT EXISTS url text,
          ADD COLUMN IF NOT EXISTS datos jsonb,
          DROP CONSTRAINT IF EXISTS notificaciones_tipo_format,
          ADD CONSTRAINT notificaciones_tipo_format CHECK (tipo ~ '^[a-z0-9_-]{1,50}$') NOT VALID,
          DROP CONSTRAINT IF EXISTS notificaciones_url_length,
          ADD CONSTRAINT notificaciones_url_length CHECK (char_length(url) <= 2000) NOT VALID,
          DROP CONSTRAINT IF EXISTS notificaciones_datos_object,
          ADD CONSTRAINT notificaciones_datos_object CHECK (jsonb_typeof(datos) = 'object') NOT VALID`);
      for (const check of ['tipo_format', 'url_length', 'datos_object']) {
        await queryRunner.query(
          `ALTER TABLE notificaciones VALIDATE CONSTRAINT notificaciones_${check}`,
        );
      }
    } finally {
      await queryRunner.query('RESET lock_timeout');
    }
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      'ALTER TABLE notificaciones DROP COLUMN datos, DROP COLUMN url, DROP COLUMN tipo',
    );
  }
}

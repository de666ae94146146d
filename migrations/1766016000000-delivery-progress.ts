import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * How far the delivery leader has read, for catch-up: a client replays only notifications the
 * leader has already seen, because below an id it has not seen yet the leader may still record
 * a late row (see OutboxRepository). One row, raised by every read that sees a higher id.
 *
 * Also stores the outbox's id arrays uncompressed: a 10,000-recipient fan-out's array (80 KB)
 * took about 7 ms to compress in the fan-out's INSERT, and about 3 ms to store as it is, and
 * it lives only until the leader has published it.
 */
export class DeliveryProgress1766016000000 implements MigrationInterface {
  name = 'DeliveryProgress1766016000000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE entregas_progreso (
        unica boolean PRIMARY KEY DEFAULT true CHECK (unica),
        leido_hasta bigint NOT NULL
      )`);
    // What is stored already went out under the previous rule: count it as read.
    await queryRunner.query(`
      INSERT INTO entregas_progreso (leido_hasta)
      SELECT coalesce(max(id), 0) FROM notificaciones`);
    // Only new values are affected: no rewrite, a moment's lock on a table of a few rows.
    await queryRunner.query(
      `ALTER TABLE entregas_pendientes ALTER COLUMN notificaciones SET STORAGE EXTERNAL`,
    );
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `ALTER TABLE entregas_pendientes ALTER COLUMN notificaciones SET STORAGE EXTENDED`,
    );
    await queryRunner.query(`DROP TABLE entregas_progreso`);
  }
}

import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Deletions go out through the delivery outbox, like counts: the outbox row of a delete carries
 * the ids it deleted, so the leader tells the user's sockets in the one order it publishes in.
 */
export class DeletionsOutbox1765670400000 implements MigrationInterface {
  name = 'DeletionsOutbox1765670400000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE entregas_pendientes ADD COLUMN eliminadas bigint[]`);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE entregas_pendientes DROP COLUMN eliminadas`);
  }
}

import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Per-user preferences (`silenciados`: the kinds not pushed live), and on each notification
 * whether it was stored silenced: catch-up replays only what was pushed live. The column is a
 * constant default, so adding it rewrites nothing.
 */
export class Preferences1765843200000 implements MigrationInterface {
  name = 'Preferences1765843200000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE preferencias (
        usuario_id integer PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
        silenciados text[] NOT NULL DEFAULT '{}'
      )`);
    await queryRunner.query(`SET LOCAL lock_timeout = '5s'`);
    await queryRunner.query(
      `ALTER TABLE notificaciones ADD COLUMN silenciada boolean NOT NULL DEFAULT false`,
    );
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE notificaciones DROP COLUMN silenciada`);
    await queryRunner.query(`DROP TABLE preferencias`);
  }
}

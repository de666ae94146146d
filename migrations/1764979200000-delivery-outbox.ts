import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * What one delivery leader needs to push every committed notification and to replay exactly:
 * an outbox of one row per statement that must be pushed (written in that statement, so it
 * commits or rolls back with it), and the notifications delivered after a higher id ("late").
 */
export class DeliveryOutbox1764979200000 implements MigrationInterface {
  name = 'DeliveryOutbox1764979200000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    // Narrow and short-lived: the leader deletes each row once it has published it.
    await queryRunner.query(`
      CREATE TABLE entregas_pendientes (
        id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        notificaciones bigint[],
        recuentos integer[]
      )`);
    await queryRunner.query(`
      CREATE TABLE entregas_tardias (
        notificacion_id bigint PRIMARY KEY REFERENCES notificaciones (id) ON DELETE CASCADE,
        usuario_id integer NOT NULL,
        watermark bigint NOT NULL,
        posicion bigint NOT NULL,
        orden bigint GENERATED ALWAYS AS IDENTITY
      )`);
    // Catch-up: a user's late rows delivered after the id the client holds.
    await queryRunner.query(
      `CREATE INDEX entregas_tardias_usuario_watermark_idx ON entregas_tardias (usuario_id, watermark)`,
    );
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE entregas_tardias`);
    await queryRunner.query(`DROP TABLE entregas_pendientes`);
  }
}

import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The Idempotency-Key of each send, per sender, for 24 hours: what the request was (`huella`, a
 * hash of its body), who is running it (`dueno`, while `respuesta` is null) and what it answered.
 */
export class IdempotencyKeys1765756800000 implements MigrationInterface {
  name = 'IdempotencyKeys1765756800000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE claves_idempotencia (
        emisor_id integer NOT NULL REFERENCES users (id) ON DELETE CASCADE,
        clave text NOT NULL,
        huella text NOT NULL,
        dueno uuid NOT NULL,
        -- json, not jsonb: a replay must be the same bytes as the first answer (jsonb reorders keys).
        respuesta json,
        creada timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (emisor_id, clave)
      )`);
    // The purge: keys past 24 hours.
    await queryRunner.query(
      `CREATE INDEX claves_idempotencia_creada_idx ON claves_idempotencia (creada)`,
    );
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE claves_idempotencia`);
  }
}

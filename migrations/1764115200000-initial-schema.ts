import { MigrationInterface, QueryRunner } from 'typeorm';

export class InitialSchema1764115200000 implements MigrationInterface {
  name = 'InitialSchema1764115200000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE users (
        id integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        username varchar(150) NOT NULL,
        is_staff boolean NOT NULL DEFAULT false,
        is_active boolean NOT NULL DEFAULT true,
        CONSTRAINT users_username_key UNIQUE (username)
      )`);
    await queryRunner.query(`
      CREATE TABLE notificaciones (
        id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        usuario_id integer NOT NULL REFERENCES users (id) ON DELETE CASCADE,
        mensaje text NOT NULL CONSTRAINT notificaciones_mensaje_length CHECK (char_length(mensaje) BETWEEN 1 AND 10000),
        leida boolean NOT NULL DEFAULT false,
        fecha timestamptz NOT NULL DEFAULT now()
      )`);
    // The contract's index: unread counts and unread pages.
    await queryRunner.query(
      `CREATE INDEX notificaciones_usuario_leida_fecha_idx ON notificaciones (usuario_id, leida, fecha DESC)`,
    );
    // Pages of all rows in list order, at any depth, without sorting the user's rows.
    await queryRunner.query(
      `CREATE INDEX notificaciones_usuario_fecha_id_idx ON notificaciones (usuario_id, fecha DESC, id DESC)`,
    );
    // Catch-up on reconnect: the user's rows after the last id a client saw.
    await queryRunner.query(
      `CREATE INDEX notificaciones_usuario_id_idx ON notificaciones (usuario_id, id)`,
    );
    // Retention: rows arrive in time order, so a tiny BRIN index finds the old ones.
    await queryRunner.query(
      `CREATE INDEX notificaciones_fecha_brin_idx ON notificaciones USING brin (fecha)`,
    );
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE notificaciones`);
    await queryRunner.query(`DROP TABLE users`);
  }
}

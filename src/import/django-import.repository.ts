import type { QueryRunner } from 'typeorm';
import type { DumpNotification, DumpUser } from './django-records';

/** What an upsert did: rows that were not there, and rows whose values changed. */
export interface UpsertCounts {
  created: number;
  updated: number;
}

/** A row of the file that cannot go in, and why (a sentence naming it). */
export interface Refusal {
  reason: string;
}

/**
 * The SQL of a Django import, on one connection inside one transaction. Rows are staged first
 * (temporary tables, dropped at commit) in whatever order the dump lists them, then checked and
 * upserted set-wise, so a notification may come before its user in the file and a failure
 * anywhere leaves the database as it was.
 */
export class DjangoImportRepository {
  constructor(private readonly runner: QueryRunner) {}

  /** The first row of a query's answer, if any. */
  private async first<T>(sql: string): Promise<T | undefined> {
    const rows = (await this.runner.query(sql)) as T[];
    return rows[0];
  }

  /** The one row of a query that always answers one. */
  private async only<T>(sql: string): Promise<T> {
    return (await this.first<T>(sql))!;
  }

  /** Creates the staging tables; times are read as UTC when the dump gives no offset. */
  async stage(): Promise<void> {
    await this.runner.query(`SET LOCAL TimeZone = 'UTC'`);
    // Set-wise checks hash a million rows: room for that, for this transaction only.
    await this.runner.query(`SET LOCAL work_mem = '64MB'`);
    await this.runner.query(`
      CREATE TEMPORARY TABLE django_users (
        id integer NOT NULL, username varchar(150) NOT NULL,
        is_staff boolean NOT NULL, is_active boolean NOT NULL
      ) ON COMMIT DROP`);
    await this.runner.query(`
      CREATE TEMPORARY TABLE django_notificaciones (
        id bigint NOT NULL, usuario_id integer, usuario_username text,
        mensaje text NOT NULL, leida boolean NOT NULL, fecha timestamptz NOT NULL
      ) ON COMMIT DROP`);
  }

  async stageUsers(users: readonly DumpUser[]): Promise<void> {
    await this.runner.query(
      `INSERT INTO django_users
       SELECT * FROM unnest($1::int[], $2::varchar[], $3::boolean[], $4::boolean[])`,
      [
        users.map((user) => user.id),
        users.map((user) => user.username),
        users.map((user) => user.isStaff),
        users.map((user) => user.isActive),
      ],
    );
  }

  async stageNotifications(rows: readonly DumpNotification[]): Promise<void> {
    await this.runner.query(
      `INSERT INTO django_notificaciones
       SELECT * FROM unnest($1::bigint[], $2::int[], $3::text[], $4::text[], $5::boolean[],
                            $6::timestamptz[])`,
      [
        rows.map((row) => row.id),
        rows.map((row) => (typeof row.usuario === 'number' ? row.usuario : null)),
        rows.map((row) => (typeof row.usuario === 'string' ? row.usuario : null)),
        rows.map((row) => row.mensaje),
        rows.map((row) => row.leida),
        rows.map((row) => row.fecha),
      ],
    );
  }

  /**
   * The first reason the staged users cannot go in as they are: an id or a username twice in
   * the file, or a username that another user of the table holds.
   */
  async refuseUsers(): Promise<Refusal | undefined> {
    return this.first<Refusal>(`
      (SELECT format('user %s appears %s times in the file', id, count(*)) AS reason
       FROM django_users GROUP BY id HAVING count(*) > 1 LIMIT 1)
      UNION ALL
      (SELECT format('the username "%s" is given to %s users in the file', username, count(*))
       FROM django_users GROUP BY username HAVING count(*) > 1 LIMIT 1)
      UNION ALL
      (SELECT format('user %s: the username "%s" belongs to user %s in the users table',
                     d.id, d.username, u.id)
       FROM django_users d JOIN users u ON u.username = d.username AND u.id <> d.id LIMIT 1)
      LIMIT 1`);
  }

  /** Inserts new users with their ids and updates those whose fields changed. */
  async upsertUsers(): Promise<UpsertCounts> {
    return this.only<UpsertCounts>(`
      WITH written AS (
        INSERT INTO users (id, username, is_staff, is_active) OVERRIDING SYSTEM VALUE
        SELECT id, username, is_staff, is_active FROM django_users
        ON CONFLICT (id) DO UPDATE
          SET username = excluded.username, is_staff = excluded.is_staff,
              is_active = excluded.is_active
          WHERE (users.username, users.is_staff, users.is_active)
                IS DISTINCT FROM (excluded.username, excluded.is_staff, excluded.is_active)
        RETURNING xmax = 0 AS created
      )
      SELECT (count(*) FILTER (WHERE created))::int AS created,
             (count(*) FILTER (WHERE NOT created))::int AS updated
      FROM written`);
  }

  /**
   * Resolves natural foreign keys (`"usuario": ["username"]`) through the users table, which
   * now holds the file's users too, then names the first notification that cannot go in: an id
   * twice in the file, a user in neither the file nor the table, or an id another notification
   * already has (one the service created: not the same user and time).
   */
  async refuseNotifications(): Promise<Refusal | undefined> {
    await this.runner.query(`
      UPDATE django_notificaciones d SET usuario_id = u.id
      FROM users u WHERE d.usuario_id IS NULL AND u.username = d.usuario_username`);
    const twice = await this.first<Refusal>(`
      SELECT format('notification %s appears %s times in the file', id, count(*)) AS reason
      FROM django_notificaciones GROUP BY id HAVING count(*) > 1 LIMIT 1`);
    if (twice) return twice;
    return this.first<Refusal>(`
      (SELECT format('notification %s: user %s is neither in the file nor in the users table',
                     d.id, coalesce(d.usuario_id::text, format('"%s"', d.usuario_username)))
         AS reason
       FROM django_notificaciones d
       WHERE NOT EXISTS (SELECT 1 FROM users u WHERE u.id = d.usuario_id) LIMIT 1)
      UNION ALL
      (SELECT format('notification %s: that id already belongs to another notification '
                     '(user %s, %s): import before the service creates notifications',
                     d.id, n.usuario_id, n.fecha)
       FROM django_notificaciones d JOIN notificaciones n ON n.id = d.id
       WHERE (n.usuario_id, n.fecha) IS DISTINCT FROM (d.usuario_id, d.fecha) LIMIT 1)
      LIMIT 1`);
  }

  /** How many staged notifications the table does not hold yet. */
  async countNewNotifications(): Promise<number> {
    const row = await this.only<{ count: number }>(`
      SELECT count(*)::int AS count FROM django_notificaciones d
      WHERE NOT EXISTS (SELECT 1 FROM notificaciones n WHERE n.id = d.id)`);
    return row.count;
  }

  /**
   * Updates `mensaje` and `leida` of imported notifications the dump changed; answers how many.
   * A notification read here stays read: an older dump does not make it unread again.
   */
  async updateChangedNotifications(): Promise<number> {
    const row = await this.only<{ count: number }>(`
      WITH changed AS (
        UPDATE notificaciones n SET mensaje = d.mensaje, leida = n.leida OR d.leida
        FROM django_notificaciones d
        WHERE n.id = d.id
          AND (n.mensaje, n.leida) IS DISTINCT FROM (d.mensaje, n.leida OR d.leida)
        RETURNING 1
      )
      SELECT count(*)::int AS count FROM changed`);
    return row.count;
  }

  /**
   * Inserts the new notifications with their ids. Nothing goes to the delivery outbox: imported
   * rows are history, not news, so no open tab is told of them (a client reconnecting with an
   * older `since` replays them, as it would any row above the id it holds).
   */
  async insertNewNotifications(): Promise<void> {
    await this.runner.query(`
      INSERT INTO notificaciones (id, usuario_id, mensaje, leida, fecha) OVERRIDING SYSTEM VALUE
      SELECT id, usuario_id, mensaje, leida, fecha FROM django_notificaciones d
      WHERE NOT EXISTS (SELECT 1 FROM notificaciones n WHERE n.id = d.id)
      ORDER BY id`);
  }

  /**
   * Drops the notifications table's secondary indexes and foreign keys, and answers the
   * statements that put them back. PostgreSQL's advice for bulk loads: building an index once
   * is many times faster than updating it row by row, and so is checking a foreign key for
   * the whole table at once rather than per row (measured in BENCHMARKS.md). The primary key
   * stays: the inserts need it. Inside the import's transaction, so a failure restores them.
   */
  async dropNotificationIndexes(): Promise<string[]> {
    const rows = (await this.runner.query(`
      SELECT format('ALTER TABLE notificaciones DROP CONSTRAINT %I', conname) AS drop,
             format('ALTER TABLE notificaciones ADD CONSTRAINT %I %s',
                    conname, pg_get_constraintdef(oid)) AS restore
      FROM pg_constraint
      WHERE conrelid = 'notificaciones'::regclass AND contype = 'f'
      UNION ALL
      SELECT format('DROP INDEX %s', i.indexrelid::regclass), pg_get_indexdef(i.indexrelid)
      FROM pg_index i
      WHERE i.indrelid = 'notificaciones'::regclass
        AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)`)) as Array<{
      drop: string;
      restore: string;
    }>;
    for (const row of rows) await this.runner.query(row.drop);
    return rows.map((row) => row.restore);
  }

  /** Runs the statements `dropNotificationIndexes` answered. */
  async restore(statements: readonly string[]): Promise<void> {
    // Index builds sort: give them room (for this transaction only).
    await this.runner.query(`SET LOCAL maintenance_work_mem = '256MB'`);
    for (const statement of statements) await this.runner.query(statement);
  }

  /**
   * Moves both identity sequences past the highest id in their table (never back), so the next
   * user or notification the service creates gets a higher id than any imported one.
   */
  async moveSequencesPastIds(): Promise<void> {
    for (const table of ['users', 'notificaciones']) {
      await this.runner.query(
        `SELECT setval(seq, top)
         FROM (SELECT pg_get_serial_sequence($1, 'id')::regclass AS seq) s,
              LATERAL (SELECT (SELECT max(id) FROM ${table}) AS top) t
         WHERE top IS NOT NULL AND top > coalesce(pg_sequence_last_value(seq), 0)`,
        [table],
      );
    }
  }
}

import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { User } from '../../src/users/user.entity';
import type { TestApp } from './app';

/** A new user with a unique username (active, not staff unless asked). */
export async function createUser(
  target: TestApp | DataSource,
  options: { staff?: boolean; active?: boolean; username?: string } = {},
): Promise<User> {
  const dataSource = target instanceof DataSource ? target : target.dataSource;
  const users = dataSource.getRepository(User);
  return users.save(
    users.create({
      username: options.username ?? `user-${randomUUID().slice(0, 12)}`,
      isStaff: options.staff ?? false,
      isActive: options.active ?? true,
    }),
  );
}

/**
 * Inserts notifications for `user` straight into the table, in one statement (so rows without
 * an explicit `fecha` share the same `now()` and only their ids order them). `rows` may be a
 * count. Returns the new ids in the order of `rows`.
 */
export async function insertNotifications(
  target: TestApp | DataSource,
  user: User | number,
  rows: number | Array<{ mensaje?: string; leida?: boolean; fecha?: string }>,
): Promise<number[]> {
  const dataSource = target instanceof DataSource ? target : target.dataSource;
  const list: Array<{ mensaje?: string; leida?: boolean; fecha?: string }> =
    typeof rows === 'number' ? Array.from({ length: rows }, () => ({})) : rows;
  const inserted = await dataSource.query<Array<{ id: string }>>(
    `INSERT INTO notificaciones (usuario_id, mensaje, leida, fecha)
     SELECT $1, coalesce(m, 'notificación ' || ord), coalesce(l, false), coalesce(f, now())
     FROM unnest($2::text[], $3::boolean[], $4::timestamptz[]) WITH ORDINALITY AS t(m, l, f, ord)
     ORDER BY ord
     RETURNING id`,
    [
      typeof user === 'number' ? user : user.id,
      list.map((row) => row.mensaje ?? null),
      list.map((row) => row.leida ?? null),
      list.map((row) => row.fecha ?? null),
    ],
  );
  // Identity values are drawn in insertion order, which ORDER BY ord fixes.
  return inserted.map((row) => Number(row.id)).sort((a, b) => a - b);
}

/** Moves these notifications `days` days into the past. */
export async function backdate(dataSource: DataSource, ids: number[], days: number): Promise<void> {
  await dataSource.query(
    `UPDATE notificaciones SET fecha = now() - make_interval(days => $2) WHERE id = ANY($1::bigint[])`,
    [ids, days],
  );
}

/** Which of these notification ids still exist. */
export async function existing(dataSource: DataSource, ids: number[]): Promise<number[]> {
  const rows = await dataSource.query<Array<{ id: string }>>(
    'SELECT id FROM notificaciones WHERE id = ANY($1::bigint[]) ORDER BY id',
    [ids],
  );
  return rows.map((row) => Number(row.id));
}

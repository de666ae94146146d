import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import { Coalescer } from '../common/coalescer';
import { QUERY_BOUND_MS } from '../database/bounded-client';
import { runPrepared } from '../database/prepared';
import { User } from './user.entity';

/** A `users` row as the statements here return it. */
export interface UserRow {
  id: number;
  username: string;
  is_staff: boolean;
  is_active?: boolean;
}

// Auth lookups in flight at once (of the pool's connections), and ids per lookup query.
const LOOKUPS_IN_FLIGHT = 1;
const LOOKUPS_PER_QUERY = 500;

const COLUMNS = 'id, username, is_staff, is_active';

/** The one row → User mapping; a row without `is_active` came from an `is_active` filter. */
export function toUser(row: UserRow): User {
  return Object.assign(new User(), {
    id: row.id,
    username: row.username,
    isStaff: row.is_staff,
    isActive: row.is_active ?? true,
  });
}

/** Every statement on the `users` table. */
@Injectable()
export class UsersRepository {
  /**
   * Authentication looks a user up on every request and handshake. Lookups made while others
   * are in flight share the next query: under load one round trip answers many requests, and
   * each lookup still reads the database after it was asked (a user deactivated a moment ago
   * is never answered from an older query).
   */
  private readonly activeLookups = new Coalescer<number, User | null>(
    (ids) => this.findActiveMany(ids),
    { maxInFlight: LOOKUPS_IN_FLIGHT, maxBatch: LOOKUPS_PER_QUERY, timeoutMs: QUERY_BOUND_MS },
  );

  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /** The active user with this id, or null (coalesced with concurrent lookups). */
  findActive(id: number): Promise<User | null> {
    return this.activeLookups.run(id);
  }

  /**
   * Which of these ids are active users, in the caller's transaction when given its manager
   * (it may have changed users itself).
   */
  async activeAmong(ids: readonly number[], manager?: EntityManager): Promise<Set<number>> {
    const rows = await runPrepared<{ id: number }>(
      this.dataSource,
      'users.active-among',
      'SELECT id FROM users WHERE id = ANY($1::int[]) AND is_active',
      [ids],
      manager,
    );
    return new Set(rows.map((row) => row.id));
  }

  async findByUsername(username: string): Promise<User | null> {
    const [row] = await runPrepared<UserRow>(
      this.dataSource,
      'users.by-username',
      `SELECT ${COLUMNS} FROM users WHERE username = $1`,
      [username],
    );
    return row ? toUser(row) : null;
  }

  /** Inserts an active user; a taken username fails with a unique violation. */
  async insert(username: string, isStaff: boolean): Promise<User> {
    const [row] = await runPrepared<UserRow>(
      this.dataSource,
      'users.insert',
      `INSERT INTO users (username, is_staff, is_active) VALUES ($1, $2, true)
       RETURNING ${COLUMNS}`,
      [username, isStaff],
    );
    return toUser(row);
  }

  /**
   * Creates or updates the user with this id (the host's id); true when it was created. A
   * username another user has fails with a unique violation.
   */
  async upsert(
    id: number,
    fields: { username: string; isStaff: boolean; isActive: boolean },
  ): Promise<boolean> {
    const [row] = await runPrepared<{ created: boolean }>(
      this.dataSource,
      'users.upsert',
      `INSERT INTO users (id, username, is_staff, is_active) OVERRIDING SYSTEM VALUE
       VALUES ($1, $2, $3, $4)
       ON CONFLICT (id) DO UPDATE
         SET username = excluded.username, is_staff = excluded.is_staff,
             is_active = excluded.is_active
       RETURNING xmax = 0 AS created`,
      [id, fields.username, fields.isStaff, fields.isActive],
    );
    return row.created;
  }

  /** Moves the id sequence past `id` (never back), so ids handed out later never take it. */
  async moveIdsPast(id: number): Promise<void> {
    await runPrepared(
      this.dataSource,
      'users.move-ids-past',
      `SELECT setval(seq, $1)
       FROM (SELECT pg_get_serial_sequence('users', 'id')::regclass AS seq) s
       WHERE $1 > coalesce(pg_sequence_last_value(seq), 0)`,
      [id],
    );
  }

  /**
   * Inserts those of these users that do not exist yet (existing ones are left as they are);
   * answers them all, in the order given, with how many were new.
   */
  async insertMissing(
    wanted: ReadonlyArray<{ username: string; isStaff: boolean }>,
  ): Promise<{ users: User[]; created: number }> {
    const usernames = wanted.map((user) => user.username);
    const inserted = await runPrepared<{ id: number }>(
      this.dataSource,
      'users.insert-missing',
      `INSERT INTO users (username, is_staff)
       SELECT * FROM unnest($1::varchar[], $2::boolean[])
       ON CONFLICT (username) DO NOTHING
       RETURNING id`,
      [usernames, wanted.map((user) => user.isStaff)],
    );
    const found = await runPrepared<UserRow>(
      this.dataSource,
      'users.by-usernames',
      `SELECT ${COLUMNS} FROM users WHERE username = ANY($1::varchar[])`,
      [usernames],
    );
    const byName = new Map(found.map((row) => [row.username, toUser(row)]));
    return { users: usernames.map((name) => byName.get(name)!), created: inserted.length };
  }

  /** Active users whose username starts with `prefix`, staff first, then by name. */
  async listActiveByPrefix(prefix: string, limit: number): Promise<User[]> {
    const rows = await runPrepared<UserRow>(
      this.dataSource,
      'users.active-by-prefix',
      `SELECT ${COLUMNS} FROM users
       WHERE is_active AND starts_with(username, $1)
       ORDER BY is_staff DESC, username
       LIMIT $2`,
      [prefix, limit],
    );
    return rows.map(toUser);
  }

  private async findActiveMany(ids: number[]): Promise<Array<User | null>> {
    const rows = await runPrepared<UserRow>(
      this.dataSource,
      'users.find-active',
      'SELECT id, username, is_staff FROM users WHERE id = ANY($1::int[]) AND is_active',
      [[...new Set(ids)]],
    );
    const byId = new Map(rows.map((row) => [row.id, toUser(row)]));
    return ids.map((id) => byId.get(id) ?? null);
  }
}

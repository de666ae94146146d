import { ConflictException, Injectable, NotFoundException } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { In, QueryFailedError, Repository } from 'typeorm';
import { Coalescer } from '../common/coalescer';
import { QUERY_BOUND_MS } from '../database/bounded-client';
import { runPrepared } from '../database/prepared';
import { User } from './user.entity';

const UNIQUE_VIOLATION = '23505';
// Auth lookups in flight at once (of the pool's connections), and ids per lookup query.
const LOOKUPS_IN_FLIGHT = 1;
const LOOKUPS_PER_QUERY = 500;

@Injectable()
export class UsersService {
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

  constructor(@InjectRepository(User) private readonly users: Repository<User>) {}

  /** The user with this id if it exists and is active; what authentication accepts. */
  findActive(id: number): Promise<User | null> {
    return this.activeLookups.run(id);
  }

  /** The user with this username, or 404. */
  async getByUsername(username: string): Promise<User> {
    const user = await this.users.findOneBy({ username });
    if (!user) throw new NotFoundException(`no user named "${username}"`);
    return user;
  }

  /** Creates an active user; 409 when the username is taken. */
  async create(username: string, isStaff = false): Promise<User> {
    try {
      return await this.users.save(this.users.create({ username, isStaff, isActive: true }));
    } catch (error) {
      if (
        error instanceof QueryFailedError &&
        (error.driverError as { code?: string }).code === UNIQUE_VIOLATION
      ) {
        throw new ConflictException(`the username "${username}" is taken`);
      }
      throw error;
    }
  }

  /**
   * Creates or updates the user with this id (the host system's id), and answers it with
   * whether it was created; 409 when another user has the username. The id sequence moves past
   * it, so users created here later never take an id the host gave.
   */
  async put(
    id: number,
    fields: { username: string; isStaff: boolean; isActive: boolean },
  ): Promise<{ user: User; created: boolean }> {
    let rows: Array<{ created: boolean }>;
    try {
      rows = await this.users.query<Array<{ created: boolean }>>(
        `INSERT INTO users (id, username, is_staff, is_active) OVERRIDING SYSTEM VALUE
         VALUES ($1, $2, $3, $4)
         ON CONFLICT (id) DO UPDATE
           SET username = excluded.username, is_staff = excluded.is_staff,
               is_active = excluded.is_active
         RETURNING xmax = 0 AS created`,
        [id, fields.username, fields.isStaff, fields.isActive],
      );
    } catch (error) {
      if (
        error instanceof QueryFailedError &&
        (error.driverError as { code?: string }).code === UNIQUE_VIOLATION
      ) {
        throw new ConflictException(`the username "${fields.username}" belongs to another user`);
      }
      throw error;
    }
    const created = rows[0].created;
    if (created) {
      await this.users.query(
        `SELECT setval(seq, $1)
         FROM (SELECT pg_get_serial_sequence('users', 'id')::regclass AS seq) s
         WHERE $1 > coalesce(pg_sequence_last_value(seq), 0)`,
        [id],
      );
    }
    return { user: Object.assign(new User(), { id, ...fields }), created };
  }

  /**
   * Creates those of these users that do not exist yet (existing ones are left as they are) and
   * returns them all, in the order given, with how many were new.
   */
  async ensureMany(
    wanted: ReadonlyArray<{ username: string; isStaff: boolean }>,
  ): Promise<{ users: User[]; created: number }> {
    const usernames = wanted.map((user) => user.username);
    const inserted = await this.users.query<unknown[]>(
      `INSERT INTO users (username, is_staff)
       SELECT * FROM unnest($1::varchar[], $2::boolean[])
       ON CONFLICT (username) DO NOTHING
       RETURNING id`,
      [usernames, wanted.map((user) => user.isStaff)],
    );
    const found = await this.users.findBy({ username: In(usernames) });
    const byName = new Map(found.map((user) => [user.username, user]));
    return { users: usernames.map((name) => byName.get(name)!), created: inserted.length };
  }

  /** Active users whose username starts with `prefix`, staff first, then by name. */
  listActiveByPrefix(prefix: string, limit: number): Promise<User[]> {
    return this.users
      .createQueryBuilder('user')
      .where('user.is_active AND starts_with(user.username, :prefix)', { prefix })
      .orderBy('user.is_staff', 'DESC')
      .addOrderBy('user.username')
      .limit(limit)
      .getMany();
  }

  private async findActiveMany(ids: number[]): Promise<Array<User | null>> {
    // A prepared statement, not the query builder: this runs for every request.
    const rows = await runPrepared<{ id: number; username: string; is_staff: boolean }>(
      this.users.manager.connection,
      'users.find-active',
      'SELECT id, username, is_staff FROM users WHERE id = ANY($1::int[]) AND is_active',
      [[...new Set(ids)]],
    );
    const byId = new Map(
      rows.map((row) => [
        row.id,
        Object.assign(new User(), {
          id: row.id,
          username: row.username,
          isStaff: row.is_staff,
          isActive: true,
        }),
      ]),
    );
    return ids.map((id) => byId.get(id) ?? null);
  }
}

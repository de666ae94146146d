import { ConflictException, Injectable, NotFoundException } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { In, QueryFailedError, Repository } from 'typeorm';
import { runPrepared } from '../database/prepared';
import { User } from './user.entity';

const UNIQUE_VIOLATION = '23505';

@Injectable()
export class UsersService {
  constructor(@InjectRepository(User) private readonly users: Repository<User>) {}

  /** The user with this id if it exists and is active; what authentication accepts. */
  async findActive(id: number): Promise<User | null> {
    // Every request and handshake asks this: a prepared statement, not the query builder.
    const [row] = await runPrepared<{ id: number; username: string; is_staff: boolean }>(
      this.users.manager.connection,
      'users.find-active',
      'SELECT id, username, is_staff FROM users WHERE id = $1 AND is_active',
      [id],
    );
    return row
      ? Object.assign(new User(), {
          id: row.id,
          username: row.username,
          isStaff: row.is_staff,
          isActive: true,
        })
      : null;
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
}

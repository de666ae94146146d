import { ConflictException, Injectable, NotFoundException } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { isSequenceExhausted, isUniqueViolation } from '../database/errors';
import { User } from './user.entity';
import { UsersRepository } from './users.repository';

/**
 * Users created here take ids after every id the host gave (PUT moves the sequence past them):
 * when the host gave the highest id there is, none is left, which is a conflict, not a crash.
 */
function noIdsLeft(error: unknown): unknown {
  return isSequenceExhausted(error)
    ? new ConflictException(
        'no user id is left after the ids the host system gave: create users with ' +
          'PUT /notifications/api/users/{id}/ instead',
      )
    : error;
}

/** The rules about users: who may authenticate, and what a username must be unique against. */
@Injectable()
export class UsersService {
  constructor(private readonly users: UsersRepository) {}

  /** The user with this id if it exists and is active; what authentication accepts. */
  findActive(id: number): Promise<User | null> {
    return this.users.findActive(id);
  }

  /** The user with this username, or 404. */
  async getByUsername(username: string): Promise<User> {
    const user = await this.users.findByUsername(username);
    if (!user) throw new NotFoundException(`no user named "${username}"`);
    return user;
  }

  /** Creates an active user; 409 when the username is taken or no id is left. */
  async create(username: string, isStaff = false): Promise<User> {
    try {
      return await this.users.insert(username, isStaff);
    } catch (error) {
      if (isUniqueViolation(error)) {
        throw new ConflictException(`the username "${username}" is taken`);
      }
      throw noIdsLeft(error);
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
    let created: boolean;
    try {
      created = await this.users.upsert(id, fields);
    } catch (error) {
      if (isUniqueViolation(error)) {
        throw new ConflictException(`the username "${fields.username}" belongs to another user`);
      }
      throw error;
    }
    if (created) await this.users.moveIdsPast(id);
    return { user: Object.assign(new User(), { id, ...fields }), created };
  }

  /**
   * Creates those of these users that do not exist yet (existing ones are left as they are) and
   * returns them all, in the order given, with how many were new.
   */
  async ensureMany(
    wanted: ReadonlyArray<{ username: string; isStaff: boolean }>,
  ): Promise<{ users: User[]; created: number }> {
    try {
      return await this.users.insertMissing(wanted);
    } catch (error) {
      throw noIdsLeft(error);
    }
  }

  /** Active users whose username starts with `prefix`, staff first, then by name. */
  listActiveByPrefix(prefix: string, limit: number): Promise<User[]> {
    return this.users.listActiveByPrefix(prefix, limit);
  }

  /** Which of these ids are active users (in the caller's transaction, given its manager). */
  activeAmong(ids: readonly number[], manager?: EntityManager): Promise<Set<number>> {
    return this.users.activeAmong(ids, manager);
  }
}

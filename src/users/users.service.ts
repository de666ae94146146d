import { ConflictException, Injectable, NotFoundException } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { QueryFailedError, Repository } from 'typeorm';
import { User } from './user.entity';

const UNIQUE_VIOLATION = '23505';

@Injectable()
export class UsersService {
  constructor(@InjectRepository(User) private readonly users: Repository<User>) {}

  /** The user with this id if it exists and is active; what authentication accepts. */
  findActive(id: number): Promise<User | null> {
    return this.users.findOneBy({ id, isActive: true });
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
}

import { Injectable } from '@nestjs/common';
import { PreferencesRepository } from './preferences.repository';

/** A user's notification preferences. */
@Injectable()
export class PreferencesService {
  constructor(private readonly preferences: PreferencesRepository) {}

  /** The kinds the user silenced, sorted. */
  async silenced(userId: number): Promise<string[]> {
    return [...(await this.preferences.silencedOf(userId))].sort();
  }

  /** Replaces them (a set: repeats count once); affects only notifications stored from now on. */
  async setSilenced(userId: number, silenciados: string[]): Promise<string[]> {
    return this.preferences.setSilenced(userId, [...new Set(silenciados)].sort());
  }
}

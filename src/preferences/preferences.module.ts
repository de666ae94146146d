import { Module } from '@nestjs/common';
import { PreferencesRepository } from './preferences.repository';
import { PreferencesService } from './preferences.service';

/**
 * Per-user notification preferences: which kinds are silenced. Its routes are mounted by
 * NotificationsModule with the others (or not, with `http: false`).
 */
@Module({
  providers: [PreferencesRepository, PreferencesService],
  exports: [PreferencesService],
})
export class PreferencesModule {}

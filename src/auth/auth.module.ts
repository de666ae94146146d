import { Module } from '@nestjs/common';
import { JwtModule } from '@nestjs/jwt';
import { createSecretKey } from 'node:crypto';
import {
  NOTIFICATIONS_OPTIONS,
  type ResolvedNotificationsOptions,
} from '../notifications/notifications.options';
import { UsersModule } from '../users/users.module';
import { JwtAuthGuard } from './jwt-auth.guard';
import { StaffGuard } from './staff.guard';
import { TokenVerifier } from './token-verifier';

@Module({
  imports: [
    UsersModule,
    JwtModule.registerAsync({
      inject: [NOTIFICATIONS_OPTIONS],
      useFactory: (options: ResolvedNotificationsOptions) => ({
        // A KeyObject, not the string: given a string, jsonwebtoken first tries to parse it as
        // a PEM public key on every verify, which cost more than the rest of a request.
        secret: createSecretKey(Buffer.from(options.jwtSecret, 'utf8')),
        signOptions: { algorithm: 'HS256' },
        verifyOptions: { algorithms: ['HS256'] },
      }),
    }),
  ],
  providers: [TokenVerifier, JwtAuthGuard, StaffGuard],
  exports: [TokenVerifier, JwtAuthGuard, StaffGuard, UsersModule],
})
export class AuthModule {}

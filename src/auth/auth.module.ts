import { Module } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { JwtModule } from '@nestjs/jwt';
import { createSecretKey } from 'node:crypto';
import { AppConfig } from '../config/configuration';
import { UsersModule } from '../users/users.module';
import { JwtAuthGuard } from './jwt-auth.guard';
import { resolveJwtSecret } from './jwt-secret';
import { StaffGuard } from './staff.guard';
import { TokenVerifier } from './token-verifier';

@Module({
  imports: [
    UsersModule,
    JwtModule.registerAsync({
      inject: [ConfigService],
      useFactory: (config: ConfigService<AppConfig, true>) => ({
        // A KeyObject, not the string: given a string, jsonwebtoken first tries to parse it as
        // a PEM public key on every verify, which cost more than the rest of a request.
        secret: createSecretKey(
          Buffer.from(
            resolveJwtSecret({
              jwtSecret: config.get('jwtSecret', { infer: true }),
              dataDir: config.get('dataDir', { infer: true }),
            }),
            'utf8',
          ),
        ),
        signOptions: { algorithm: 'HS256' },
        verifyOptions: { algorithms: ['HS256'] },
      }),
    }),
  ],
  providers: [TokenVerifier, JwtAuthGuard, StaffGuard],
  exports: [TokenVerifier, JwtAuthGuard, StaffGuard, UsersModule],
})
export class AuthModule {}

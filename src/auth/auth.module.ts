import { Module } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { JwtModule } from '@nestjs/jwt';
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
        secret: resolveJwtSecret({
          jwtSecret: config.get('jwtSecret', { infer: true }),
          dataDir: config.get('dataDir', { infer: true }),
        }),
        signOptions: { algorithm: 'HS256' },
        verifyOptions: { algorithms: ['HS256'] },
      }),
    }),
  ],
  providers: [TokenVerifier, JwtAuthGuard, StaffGuard],
  exports: [TokenVerifier, JwtAuthGuard, StaffGuard, UsersModule],
})
export class AuthModule {}

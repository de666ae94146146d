import { Global, Module } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { AppConfig } from '../config/configuration';
import { RedisService } from '../redis/redis.service';
import { createSocketServer, SOCKET_SERVER } from './socket-server';

/**
 * Binds the Socket.IO server (SOCKET_SERVER) for the whole app. Only the app imports it: in
 * the command line nothing is bound, and what would emit or count sockets stays idle.
 */
@Global()
@Module({
  providers: [
    {
      provide: SOCKET_SERVER,
      inject: [ConfigService, RedisService],
      useFactory: (config: ConfigService<AppConfig, true>, redis: RedisService) =>
        createSocketServer(config.get('corsOrigins', { infer: true }), redis),
    },
  ],
  exports: [SOCKET_SERVER],
})
export class WebSocketModule {}

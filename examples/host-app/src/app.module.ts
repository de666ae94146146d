import { DynamicModule, Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { DataSourceOptions } from 'typeorm';
import {
  NOTIFICATIONS_ENTITIES,
  NOTIFICATIONS_MIGRATIONS,
  NotificationsModule,
} from '../../../src';
import { CreatePedidos1765000000000 } from './migrations/1765000000000-create-pedidos';
import { Pedido } from './pedidos/pedido.entity';
import { PedidosModule } from './pedidos/pedidos.module';

export interface HostSettings {
  databaseUrl: string;
  /** The key the host signs its users' tokens with. */
  jwtSecret: string;
  redisUrl?: string;
}

/**
 * The host's one connection: its entities and the notifications' ones, its migrations and the
 * shipped ones (TypeORM runs them in timestamp order; the notifications ones create `users`,
 * which `pedidos` refers to).
 */
export function hostDataSourceOptions(databaseUrl: string): DataSourceOptions {
  return {
    type: 'postgres',
    url: databaseUrl,
    entities: [...NOTIFICATIONS_ENTITIES, Pedido],
    migrations: [...NOTIFICATIONS_MIGRATIONS, CreatePedidos1765000000000],
    migrationsRun: true,
    // Two shipped migrations run outside a transaction (they validate checks without locking a
    // large table): TypeORM allows that only with a transaction per migration.
    migrationsTransactionMode: 'each',
  };
}

/** A host application: its TypeORM connection, its orders, and notifications inside it. */
@Module({})
export class AppModule {
  static register(settings: HostSettings): DynamicModule {
    return {
      module: AppModule,
      imports: [
        TypeOrmModule.forRoot(hostDataSourceOptions(settings.databaseUrl)),
        NotificationsModule.forRoot({ jwtSecret: settings.jwtSecret, redisUrl: settings.redisUrl }),
        PedidosModule,
      ],
    };
  }
}

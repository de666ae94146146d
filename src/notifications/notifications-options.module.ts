import { DynamicModule, FactoryProvider, Module, ModuleMetadata } from '@nestjs/common';
import {
  NOTIFICATIONS_OPTIONS,
  NotificationsOptions,
  resolveNotificationsOptions,
} from './notifications.options';

/** Where NotificationsOptions come from: a value, or a factory with what it injects. */
export interface NotificationsOptionsSource {
  imports?: ModuleMetadata['imports'];
  inject?: FactoryProvider['inject'];
  useFactory: (...args: never[]) => NotificationsOptions | Promise<NotificationsOptions>;
}

/**
 * The resolved options (NOTIFICATIONS_OPTIONS) for every module of the domain, whichever module
 * imports them (auth, limits, Redis): global, as the token is private to this code.
 */
@Module({})
export class NotificationsOptionsModule {
  static register({
    imports = [],
    inject = [],
    useFactory,
  }: NotificationsOptionsSource): DynamicModule {
    return {
      module: NotificationsOptionsModule,
      global: true,
      imports,
      providers: [
        {
          provide: NOTIFICATIONS_OPTIONS,
          inject,
          useFactory: async (...args: never[]) =>
            resolveNotificationsOptions(await useFactory(...args)),
        },
      ],
      exports: [NOTIFICATIONS_OPTIONS],
    };
  }
}

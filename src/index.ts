// What a host NestJS application imports to run notifications inside itself (README, "Inside
// your NestJS app"; examples/host-app shows it whole).
export { NOTIFICATIONS_ENTITIES, NOTIFICATIONS_MIGRATIONS } from './database/schema';
export { Notificacion } from './notifications/notificacion.entity';
export {
  NotificationsModule,
  type NotificationsModuleAsyncOptions,
} from './notifications/notifications.module';
export type {
  NotificationsMounts,
  NotificationsOptions,
} from './notifications/notifications.options';
export { NotificationsService, type NotifyOptions } from './notifications/notifications.service';
export { User } from './users/user.entity';
export { SocketIoAdapter as NotificationsSocketAdapter } from './websocket/socket-io.adapter';

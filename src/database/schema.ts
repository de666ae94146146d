import { InitialSchema1764115200000 } from '../../migrations/1764115200000-initial-schema';
import { DeliveryOutbox1764979200000 } from '../../migrations/1764979200000-delivery-outbox';
import { NotificationKinds1765584000000 } from '../../migrations/1765584000000-notification-kinds';
import { DeletionsOutbox1765670400000 } from '../../migrations/1765670400000-deletions-outbox';
import { IdempotencyKeys1765756800000 } from '../../migrations/1765756800000-idempotency-keys';
import { Preferences1765843200000 } from '../../migrations/1765843200000-preferences';
import { CheapChecks1765929600000 } from '../../migrations/1765929600000-cheap-checks';
import { DeliveryProgress1766016000000 } from '../../migrations/1766016000000-delivery-progress';
import { Notificacion } from '../notifications/notificacion.entity';
import { User } from '../users/user.entity';

/**
 * The entities of the notifications schema: for a host's `TypeOrmModule.forRoot({ entities })`
 * (or its `autoLoadEntities`, which NotificationsModule feeds through `forFeature`).
 */
export const NOTIFICATIONS_ENTITIES = [User, Notificacion];

/**
 * The migrations that create and evolve that schema, oldest first: the standalone service runs
 * them itself; a host adds them to its own `migrations` and runs them with its own. Listed, not
 * globbed, so the same list works from compiled JS and from TS under jest.
 */
export const NOTIFICATIONS_MIGRATIONS = [
  InitialSchema1764115200000,
  DeliveryOutbox1764979200000,
  NotificationKinds1765584000000,
  DeletionsOutbox1765670400000,
  IdempotencyKeys1765756800000,
  Preferences1765843200000,
  CheapChecks1765929600000,
  DeliveryProgress1766016000000,
];

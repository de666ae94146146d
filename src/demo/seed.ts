import type { Progress } from '../cli/progress-bar';
import { NotificationsService } from '../notifications/notifications.service';
import { UsersService } from '../users/users.service';
import { DEMO_USERNAME_PREFIX, DEMO_USERS } from './demo-users';

export interface SeedOptions {
  /** How many demo users, the first of them staff. */
  users: number;
  notifications: number;
  /** Notifications are spread over this many days up to now. */
  days: number;
}

export interface SeedSummary {
  users: number;
  users_created: number;
  staff: string[];
  notifications: number;
  unread: number;
  days: number;
}

/** What a seeded notification says, what it is about, and where it leads in the host app. */
export interface RestaurantNotification {
  mensaje: string;
  tipo: 'pedido' | 'stock' | 'gasto' | 'general';
  url: string | null;
}

export interface SeededNotification extends RestaurantNotification {
  /** Index into the seeded users. */
  user: number;
  leida: boolean;
  fecha: Date;
}

type Random = () => number;

// One INSERT per batch: big enough to be fast, small enough to show progress.
const BATCH = 1000;
const ROLES = ['cocina', 'sala', 'barra', 'almacen', 'caja', 'reparto', 'terraza', 'obrador'];
const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;

const PLATOS = [
  'paella mixta',
  'croquetas de jamón',
  'pulpo a la gallega',
  'ensalada de la casa',
  'secreto ibérico',
  'tortilla de patatas',
  'merluza en salsa verde',
  'tarta de queso',
];
const PRODUCTOS: Array<[string, string]> = [
  ['tomate', 'kg'],
  ['aceite de oliva', 'l'],
  ['harina', 'kg'],
  ['huevos', 'docenas'],
  ['gambas', 'kg'],
  ['cerveza de barril', 'barriles'],
  ['limones', 'kg'],
  ['servilletas', 'paquetes'],
];
const PROVEEDORES = ['Frutas García', 'Pescados del Cantábrico', 'Bebidas del Norte', 'Makro'];
const CONCEPTOS = [
  'reparación de la cámara frigorífica',
  'mantelería',
  'revisión del extintor',
  'gas del mes',
  'uniformes de sala',
  'menaje de cocina',
];
const PLATAFORMAS = ['Glovo', 'Just Eat', 'Uber Eats'];
const NOMBRES = ['Lucía', 'Javier', 'Carmen', 'Andrés', 'Marta', 'Pablo', 'Elena', 'Sergio'];
// Lunch and dinner service carry most of the traffic; mornings are deliveries and paperwork.
const HOURS = [
  8, 9, 10, 11, 12, 13, 13, 14, 14, 14, 15, 15, 17, 19, 20, 20, 21, 21, 21, 22, 22, 23,
];

const euros = new Intl.NumberFormat('es-ES', {
  minimumFractionDigits: 2,
  maximumFractionDigits: 2,
});

function pick<T>(random: Random, items: readonly T[]): T {
  return items[Math.floor(random() * items.length)];
}

function between(random: Random, min: number, max: number): number {
  return min + Math.floor(random() * (max - min + 1));
}

function hhmm(random: Random): string {
  return `${between(random, 12, 23)}:${pick(random, ['00', '15', '30', '45'])}`;
}

/**
 * A realistic notification for the restaurant, with the kind the demo inbox labels and a link
 * into the host application (paths of its own: this service serves none of them). Staff also
 * get money matters.
 */
export function restaurantNotification(random: Random, staff: boolean): RestaurantNotification {
  const pedido = between(random, 100, 9999);
  const mesa = between(random, 1, 24);
  const [producto, unidad] = pick(random, PRODUCTOS);
  const gasto = between(random, 1, 999);
  const order = (mensaje: string): RestaurantNotification => ({
    mensaje,
    tipo: 'pedido',
    url: `/pedidos/${pedido}/`,
  });
  const stock = (mensaje: string): RestaurantNotification => ({
    mensaje,
    tipo: 'stock',
    url: '/almacen/',
  });
  const expense = (mensaje: string): RestaurantNotification => ({
    mensaje,
    tipo: 'gasto',
    url: `/gastos/${gasto}/`,
  });
  const general = (mensaje: string): RestaurantNotification => ({
    mensaje,
    tipo: 'general',
    url: null,
  });
  const kinds: Array<() => RestaurantNotification> = [
    () => order(`Nuevo pedido #${pedido} para la mesa ${mesa}: ${pick(random, PLATOS)}`),
    () => order(`Pedido #${pedido} listo para servir en la mesa ${mesa}`),
    () => order(`Pedido para llevar #${pedido} listo para recoger`),
    () =>
      order(
        `Pedido #${pedido} de ${pick(random, PLATAFORMAS)} entrante (${between(random, 1, 6)} artículos)`,
      ),
    () => general(`La mesa ${mesa} ha pedido la cuenta`),
    () => stock(`Stock bajo: quedan ${between(random, 1, 5)} ${unidad} de ${producto}`),
    () => stock(`Sin stock de ${producto}: avisa a sala`),
    () =>
      general(`Reserva para ${between(random, 2, 12)} personas a las ${hhmm(random)} confirmada`),
    () =>
      general(
        `${pick(random, NOMBRES)} ha pedido un cambio de turno para el ${pick(random, ['lunes', 'viernes', 'sábado', 'domingo'])}`,
      ),
  ];
  const staffKinds: Array<() => RestaurantNotification> = [
    () =>
      expense(
        `Gasto de ${euros.format(between(random, 2000, 150000) / 100)} € registrado: ${pick(random, CONCEPTOS)}`,
      ),
    () =>
      expense(
        `Gasto de ${euros.format(between(random, 20000, 250000) / 100)} € pendiente de aprobación: ${pick(random, CONCEPTOS)}`,
      ),
    () =>
      expense(
        `La factura de ${pick(random, PROVEEDORES)} vence ${pick(random, ['mañana', 'el viernes', 'en 3 días'])}`,
      ),
    () =>
      stock(`Pedido a ${pick(random, PROVEEDORES)} recibido (${between(random, 2, 20)} bultos)`),
    () =>
      general(
        `Cierre de caja: ${euros.format(between(random, 80000, 600000) / 100)} € en ${between(random, 40, 260)} tickets`,
      ),
  ];
  return pick(random, staff && random() < 0.5 ? staffKinds : kinds)();
}

/** A moment in the last `days` days, at a service hour, never in the future. */
function momentIn(random: Random, days: number, now: number): Date {
  const day = new Date(now - Math.floor(random() * days) * DAY_MS);
  day.setHours(pick(random, HOURS), between(random, 0, 59), between(random, 0, 59), 0);
  const time = day.getTime();
  return new Date(time > now ? time - DAY_MS : time);
}

/** The demo users to create: `demo-gerente` (staff), then cooks, waiters… (`demo-sala-2`). */
export function seedUsernames(count: number): Array<{ username: string; isStaff: boolean }> {
  const users = [DEMO_USERS[0]];
  for (let index = 0; users.length < count; index++) {
    const role = ROLES[index % ROLES.length];
    const round = Math.floor(index / ROLES.length) + 1;
    users.push({
      username: `${DEMO_USERNAME_PREFIX}${role}${round > 1 ? `-${round}` : ''}`,
      isStaff: false,
    });
  }
  return users.slice(0, count);
}

/**
 * Notifications for `users`, oldest first (so ids grow with time, as they do live). Staff get
 * a bigger share; most of what is older than a day has been read.
 */
export function seedNotifications(
  users: ReadonlyArray<{ isStaff: boolean }>,
  options: Pick<SeedOptions, 'notifications' | 'days'>,
  random: Random = Math.random,
  now = Date.now(),
): SeededNotification[] {
  const weights = users.map((user) => (user.isStaff ? 3 : 1));
  const total = weights.reduce((sum, weight) => sum + weight, 0);
  const userAt = (draw: number): number => {
    let left = draw * total;
    for (let index = 0; index < weights.length; index++) {
      left -= weights[index];
      if (left < 0) return index;
    }
    return weights.length - 1;
  };
  const rows = Array.from({ length: options.notifications }, (): SeededNotification => {
    const user = userAt(random());
    const fecha = momentIn(random, options.days, now);
    const recent = now - fecha.getTime() < DAY_MS;
    return {
      user,
      ...restaurantNotification(random, users[user].isStaff),
      leida: random() < (recent ? 0.3 : 0.9),
      fecha,
    };
  });
  return rows.sort((a, b) => a.fecha.getTime() - b.fecha.getTime());
}

/** Creates the demo users (keeping any that exist) and their notifications, in batches. */
export async function seed(
  services: { users: UsersService; notifications: NotificationsService },
  options: SeedOptions,
  progress: Progress = () => undefined,
): Promise<SeedSummary> {
  const wanted = seedUsernames(options.users);
  const { users, created } = await services.users.ensureMany(wanted);
  const rows = seedNotifications(users, options);
  let stored = 0;
  progress(0, rows.length);
  for (let start = 0; start < rows.length; start += BATCH) {
    stored += await services.notifications.importMany(
      rows.slice(start, start + BATCH).map((row) => ({
        usuarioId: users[row.user].id,
        mensaje: row.mensaje,
        tipo: row.tipo,
        url: row.url,
        leida: row.leida,
        fecha: row.fecha,
      })),
    );
    progress(stored, rows.length);
  }
  return {
    users: users.length,
    users_created: created,
    staff: users.filter((user) => user.isStaff).map((user) => user.username),
    notifications: stored,
    unread: rows.filter((row) => !row.leida).length,
    days: options.days,
  };
}

import { restaurantNotification, seedNotifications, seedUsernames } from './seed';

/** A small deterministic generator, so a failure replays. */
function seeded(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state * 1_103_515_245 + 12_345) % 2 ** 31;
    return state / 2 ** 31;
  };
}

const DAY_MS = 24 * 3600 * 1000;

describe('seedUsernames', () => {
  it('starts with the staff user, then one per role, then numbered ones', () => {
    const users = seedUsernames(10);
    expect(users[0]).toEqual({ username: 'demo-gerente', isStaff: true });
    expect(users.slice(1, 4).map((user) => user.username)).toEqual([
      'demo-cocina',
      'demo-sala',
      'demo-barra',
    ]);
    expect(users.at(-1)).toEqual({ username: 'demo-cocina-2', isStaff: false });
    expect(new Set(users.map((user) => user.username)).size).toBe(10);
    expect(seedUsernames(1)).toHaveLength(1);
  });
});

describe('seedNotifications', () => {
  const now = Date.UTC(2025, 2, 6, 12, 0, 0);
  const users = [{ isStaff: true }, { isStaff: false }, { isStaff: false }];
  const rows = seedNotifications(users, { notifications: 3000, days: 7 }, seeded(7), now);

  it('spreads them over the last days, oldest first, never in the future', () => {
    expect(rows).toHaveLength(3000);
    const times = rows.map((row) => row.fecha.getTime());
    expect(times).toEqual([...times].sort((a, b) => a - b));
    expect(Math.max(...times)).toBeLessThanOrEqual(now);
    expect(Math.min(...times)).toBeGreaterThan(now - 8 * DAY_MS);
    expect(Math.min(...times)).toBeLessThan(now - 5 * DAY_MS);
  });

  it('gives staff a bigger share and leaves mostly recent ones unread', () => {
    const staffShare = rows.filter((row) => row.user === 0).length / rows.length;
    expect(staffShare).toBeGreaterThan(0.45);
    const old = rows.filter((row) => now - row.fecha.getTime() > DAY_MS);
    const recent = rows.filter((row) => now - row.fecha.getTime() <= DAY_MS);
    const unread = (list: typeof rows) => list.filter((row) => !row.leida).length / list.length;
    expect(unread(recent)).toBeGreaterThan(unread(old));
  });

  it('keeps money matters for staff', () => {
    const money = rows.filter((row) => /€|factura/i.test(row.mensaje));
    expect(money.length).toBeGreaterThan(0);
    expect(money.every((row) => users[row.user].isStaff)).toBe(true);
  });
});

describe('restaurantNotification', () => {
  const random = seeded(42);
  const notifications = Array.from({ length: 500 }, (_, index) =>
    restaurantNotification(random, index % 2 === 0),
  );

  it('writes Spanish restaurant messages within the contract’s bounds', () => {
    const messages = notifications.map((notification) => notification.mensaje);
    for (const word of ['Pedido', 'Stock bajo', 'Gasto', 'Reserva', 'mesa']) {
      expect(messages.some((message) => message.includes(word))).toBe(true);
    }
    expect(messages.every((message) => message.length > 0 && message.length <= 10_000)).toBe(true);
  });

  it('labels each with the kind the demo inbox knows, and links orders and expenses', () => {
    const kinds = new Set(notifications.map((notification) => notification.tipo));
    expect([...kinds].sort()).toEqual(['gasto', 'general', 'pedido', 'stock']);
    for (const { mensaje, tipo, url } of notifications) {
      if (mensaje.startsWith('Gasto de')) expect(tipo).toBe('gasto');
      if (mensaje.startsWith('Stock bajo')) expect(tipo).toBe('stock');
      if (tipo === 'pedido') expect(url).toMatch(/^\/pedidos\/\d+\/$/);
      if (tipo === 'gasto') expect(url).toMatch(/^\/gastos\/\d+\/$/);
      if (tipo === 'general') expect(url).toBeNull();
    }
  });
});

import request from 'supertest';
import { NotificationsService } from '../src/notifications/notifications.service';
import { User } from '../src/users/user.entity';
import { useApp } from './support/app';
import { createUser } from './support/fixtures';
import { closeSockets, openSocket } from './support/socket-client';
import { bearer, signToken } from './support/tokens';

const SEND = '/notifications/api/send/';
const LIST = '/notifications/api/list/';
const KEYS = ['id', 'mensaje', 'leida', 'fecha', 'tipo', 'url', 'datos'];

describe('tipo, url and datos on every notification', () => {
  const app = useApp();
  let staff: User;
  beforeAll(async () => {
    staff = await createUser(app, { staff: true });
  });
  afterEach(() => closeSockets());

  function send(body: object) {
    return request(app.url)
      .post(SEND)
      .set(bearer(signToken(staff)))
      .send(body);
  }

  function list(user: User, query: Record<string, string> = {}) {
    return request(app.url)
      .get(LIST)
      .query(query)
      .set(bearer(signToken(user)));
  }

  async function countOf(user: User): Promise<number> {
    const [{ count }] = await app.dataSource.query<Array<{ count: number }>>(
      'SELECT count(*)::int AS count FROM notificaciones WHERE usuario_id = $1',
      [user.id],
    );
    return count;
  }

  it('are stored as sent, and every JSON carries them after the seed’s four fields', async () => {
    const user = await createUser(app);
    const tab = await openSocket(app.url, { token: signToken(user) });
    await tab.waitFor('unread_count');
    const datos = { pedido: 42, lineas: [{ plato: 'paella', n: 2 }], urgente: true };
    const { body: sent } = await send({
      usuarios: [user.id],
      mensaje: 'Pedido #42 listo',
      tipo: 'pedido',
      url: '/pedidos/42',
      datos,
    }).expect(201);
    const live = await tab.waitForMessage(sent.ids[0]);
    expect(Object.keys(live.notificacion)).toEqual(KEYS);
    expect(live.notificacion).toMatchObject({ tipo: 'pedido', url: '/pedidos/42', datos });

    const { body } = await list(user).expect(200);
    expect(body.notifications).toStrictEqual([live.notificacion]);
    expect(Object.keys(body.notifications[0])).toEqual(KEYS);

    // And a reconnecting client is replayed the same JSON.
    const replayed = await openSocket(app.url, { token: signToken(user), since: 0 });
    expect((await replayed.waitForMessage(sent.ids[0])).notificacion).toStrictEqual(
      live.notificacion,
    );
  });

  it('defaults to tipo general, url and datos null; staff sends take them too', async () => {
    const user = await createUser(app);
    await send({ usuarios: [user.id], mensaje: 'plain' }).expect(201);
    const { body } = await list(user).expect(200);
    expect(body.notifications[0]).toMatchObject({ tipo: 'general', url: null, datos: null });

    const admin = await createUser(app, { staff: true });
    await send({
      staff: true,
      mensaje: 'a todo el staff',
      tipo: 'stock',
      url: 'https://x.example/s',
    }).expect(201);
    const { body: staffList } = await list(admin).expect(200);
    expect(staffList.notifications[0]).toMatchObject({
      tipo: 'stock',
      url: 'https://x.example/s',
      datos: null,
    });
  });

  it.each<[string, object]>([
    ['an empty tipo', { tipo: '' }],
    ['a tipo of 51 characters', { tipo: 'x'.repeat(51) }],
    ['a tipo in capitals', { tipo: 'Pedido' }],
    ['a tipo with a space', { tipo: 'stock bajo' }],
    ['a numeric tipo', { tipo: 5 }],
    ['a null tipo', { tipo: null }],
    ['a relative url', { url: 'pedidos/42' }],
    ['a javascript: url', { url: 'javascript:alert(1)' }],
    ['a protocol-relative url', { url: '//evil.example.com' }],
    ['a url of 2,001 characters', { url: '/' + 'a'.repeat(2000) }],
    ['a url with a space', { url: '/a b' }],
    ['a null url', { url: null }],
    ['datos as an array', { datos: [1] }],
    ['datos as a string', { datos: 'x' }],
    ['datos null', { datos: null }],
    ['datos over 4 KiB', { datos: { k: 'a'.repeat(4096) } }],
    ['datos holding a NUL', { datos: { k: 'a\u0000' } }],
    ['a url with a lone surrogate', { url: '/a\ud800' }],
  ])('refuses %s with 400, storing nothing', async (_name, fields) => {
    const user = await createUser(app);
    const { body } = await send({ usuarios: [user.id], mensaje: 'hola', ...fields }).expect(400);
    expect(body).toEqual({ statusCode: 400, message: expect.anything(), error: 'Bad Request' });
    expect(JSON.stringify(body.message)).toMatch(/tipo|url|datos/);
    expect(await countOf(user)).toBe(0);
  });

  it('stores datos exactly as sent, keys named like Object.prototype members included', async () => {
    const user = await createUser(app);
    const datos = JSON.parse(
      '{"__proto__":{"x":1},"constructor":1,"toString":"t","a":{"constructor":{"x":1}},"n":-1.5}',
    ) as object;
    const { body: sent } = await send({ usuarios: [user.id], mensaje: 'hola', datos }).expect(201);
    const { body } = await list(user).expect(200);
    expect(body.notifications[0].id).toBe(sent.ids[0]);
    // Compared as parsed JSON (PostgreSQL's jsonb keeps keys, not their order): toStrictEqual
    // would see `__proto__` as the prototype rather than as a key.
    const sorted = (json: unknown): string =>
      JSON.stringify(json, (_key, value: unknown) =>
        value && typeof value === 'object' && !Array.isArray(value)
          ? Object.fromEntries(Object.entries(value).sort(([a], [b]) => a.localeCompare(b)))
          : value,
      );
    expect(sorted(body.notifications[0].datos)).toBe(sorted(datos));
  });

  it('refuses a number in datos that JSON cannot carry back (1e400), storing nothing', async () => {
    const user = await createUser(app);
    const { body } = await request(app.url)
      .post(SEND)
      .set(bearer(signToken(staff)))
      .set('Content-Type', 'application/json')
      .send(`{"usuarios":[${user.id}],"mensaje":"hola","datos":{"n":1e400}}`)
      .expect(400);
    expect(JSON.stringify(body.message)).toMatch(/datos/);
    expect(await countOf(user)).toBe(0);
  });

  it('lists one tipo with ?tipo=, counting all unread still', async () => {
    const user = await createUser(app);
    const { body: a } = await send({ usuarios: [user.id], mensaje: 'p1', tipo: 'pedido' });
    await send({ usuarios: [user.id], mensaje: 's1', tipo: 'stock' }).expect(201);
    const { body: b } = await send({ usuarios: [user.id], mensaje: 'p2', tipo: 'pedido' });
    const { body } = await list(user, { tipo: 'pedido' }).expect(200);
    expect(body.notifications.map((n: { id: number }) => n.id)).toEqual([b.ids[0], a.ids[0]]);
    expect(body.unread_count).toBe(3);
    const none = await list(user, { tipo: 'gasto' }).expect(200);
    expect(none.body.notifications).toEqual([]);
    // Another user's notifications of that kind are not listed.
    const other = await createUser(app);
    expect((await list(other, { tipo: 'pedido' }).expect(200)).body.notifications).toEqual([]);
  });

  it.each<[string, string]>([
    ['empty', 'tipo='],
    ['in capitals', 'tipo=Pedido'],
    ['too long', `tipo=${'x'.repeat(51)}`],
    ['given twice', 'tipo=a&tipo=b'],
  ])('refuses a ?tipo= %s with 400', async (_name, query) => {
    const user = await createUser(app);
    const { body } = await request(app.url)
      .get(`${LIST}?${query}`)
      .set(bearer(signToken(user)))
      .expect(400);
    expect(body).toMatchObject({ statusCode: 400, error: 'Bad Request' });
  });

  it('answers 401 to a list of one tipo without a token', async () => {
    await request(app.url).get(`${LIST}?tipo=pedido`).expect(401);
  });

  describe('in-process API', () => {
    it('notificarUsuario takes tipo, url and datos, and returns them', async () => {
      const user = await createUser(app);
      const service = app.app.get(NotificationsService);
      const created = await service.notificarUsuario(user, 'gasto aprobado', {
        tipo: 'gasto',
        url: '/gastos/9',
        datos: { importe: 12.5 },
      });
      expect(created).toMatchObject({
        tipo: 'gasto',
        url: '/gastos/9',
        datos: { importe: 12.5 },
        leida: false,
      });
      const many = await service.notificarUsuarios([user.id, staff.id], 'x', { tipo: 'stock' });
      expect(many.map((n) => n.tipo)).toEqual(['stock', 'stock']);
      const [row] = await app.dataSource.query<Array<{ tipo: string; url: string; datos: object }>>(
        'SELECT tipo, url, datos FROM notificaciones WHERE id = $1',
        [created.id],
      );
      expect(row).toEqual({ tipo: 'gasto', url: '/gastos/9', datos: { importe: 12.5 } });
    });

    it('refuses what the contract does not allow with a 400, storing nothing', async () => {
      const user = await createUser(app);
      const service = app.app.get(NotificationsService);
      await expect(service.notificarUsuario(user, 'x', { tipo: 'No Vale' })).rejects.toMatchObject({
        status: 400,
      });
      await expect(service.notificarUsuario(user, 'x', { url: 'ftp://x' })).rejects.toMatchObject({
        status: 400,
      });
      await expect(
        service.notificarStaff('x', { datos: [] as unknown as Record<string, unknown> }),
      ).rejects.toMatchObject({ status: 400 });
      expect(await countOf(user)).toBe(0);
    });
  });

  /**
   * The table enforces the same rules as the API, for rows written by SQL, imports or a host's
   * own statements: the cheap forms of the checks (migration CheapChecks) must refuse and accept
   * exactly what the originals did, multibyte texts at the limits included.
   */
  it('the table refuses what the rules refuse, and accepts texts at their limits', async () => {
    const user = await createUser(app);
    const insert = (columns: { mensaje?: string; tipo?: string; url?: string | null }) =>
      app.dataSource.query(
        `INSERT INTO notificaciones (usuario_id, mensaje, tipo, url) VALUES ($1, $2, $3, $4)`,
        [user.id, columns.mensaje ?? 'x', columns.tipo ?? 'general', columns.url ?? null],
      );
    const refused = [
      { mensaje: '' },
      { mensaje: 'x'.repeat(10_001) },
      { mensaje: 'ñ'.repeat(10_001) },
      { tipo: '' },
      { tipo: 'No Vale' },
      { tipo: 'pedido!' },
      { tipo: 'a'.repeat(51) },
      { url: 'x'.repeat(2001) },
      { url: 'ñ'.repeat(2001) },
    ];
    for (const columns of refused) {
      await expect(insert(columns)).rejects.toMatchObject({
        code: expect.stringMatching(/^(23514|22001)$/),
      });
    }
    await insert({ mensaje: 'ñ'.repeat(10_000), tipo: 'a'.repeat(50), url: 'ñ'.repeat(2000) });
    await insert({ mensaje: 'x'.repeat(10_000), tipo: 'stock_bajo-2', url: 'x'.repeat(2000) });
    expect(await countOf(user)).toBe(2);
  });
});

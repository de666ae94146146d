import request from 'supertest';
import { NotificationsService } from '../src/notifications/notifications.service';
import { PREFERENCES_BODY_LIMIT, SILENCIADOS_MAX } from '../src/preferences/preferences.dto';
import { User } from '../src/users/user.entity';
import { useApp } from './support/app';
import { createUser } from './support/fixtures';
import { closeSockets, openSocket } from './support/socket-client';
import { bearer, signToken } from './support/tokens';

const PREFERENCES = '/notifications/api/preferences/';

describe('preferences: silenced kinds', () => {
  const app = useApp();
  let staff: User;
  beforeAll(async () => {
    staff = await createUser(app, { staff: true });
  });
  afterEach(() => closeSockets());

  function put(user: User, body: unknown) {
    return request(app.url)
      .put(PREFERENCES)
      .set(bearer(signToken(user)))
      .send(body as object);
  }

  function send(body: object) {
    return request(app.url)
      .post('/notifications/api/send/')
      .set(bearer(signToken(staff)))
      .send(body)
      .expect(201);
  }

  it('GET answers none at first; PUT stores a set and answers it; each user has their own', async () => {
    const user = await createUser(app);
    const other = await createUser(app);
    const get = (who: User) =>
      request(app.url)
        .get(PREFERENCES)
        .set(bearer(signToken(who)))
        .expect(200);
    expect((await get(user)).body).toStrictEqual({ silenciados: [] });
    const { body } = await put(user, { silenciados: ['stock', 'gasto', 'stock'] }).expect(200);
    expect(body).toStrictEqual({ silenciados: ['gasto', 'stock'] });
    expect((await get(user)).body).toStrictEqual({ silenciados: ['gasto', 'stock'] });
    expect((await get(other)).body).toStrictEqual({ silenciados: [] });
    expect((await put(user, { silenciados: [] }).expect(200)).body).toStrictEqual({
      silenciados: [],
    });
  });

  it('a silenced kind is stored read, not pushed, not replayed; fan-outs too; counted as created', async () => {
    const muted = await createUser(app);
    const listening = await createUser(app);
    await put(muted, { silenciados: ['stock'] }).expect(200);
    const mutedTab = await openSocket(app.url, { token: signToken(muted) });
    const otherTab = await openSocket(app.url, { token: signToken(listening) });
    await mutedTab.waitFor('unread_count');
    await otherTab.waitFor('unread_count');

    const stock = await send({
      usuarios: [muted.id, listening.id],
      mensaje: 'stock',
      tipo: 'stock',
    });
    expect(stock.body.created).toBe(2);
    const single = await send({ usuarios: [muted.id], mensaje: 'solo', tipo: 'stock' });
    expect(single.body.created).toBe(1);
    const pedido = await send({ usuarios: [muted.id], mensaje: 'pedido', tipo: 'pedido' });

    // The unmuted kind arrives; pushes go out in order, so the muted ones would have come first.
    await mutedTab.waitForMessage(pedido.body.ids[0]);
    await otherTab.waitForMessage(stock.body.ids[1]);
    expect(mutedTab.ids()).toEqual([pedido.body.ids[0]]);

    const { body } = await request(app.url)
      .get('/notifications/api/list/')
      .set(bearer(signToken(muted)))
      .expect(200);
    expect(body.notifications.map((n: { id: number; leida: boolean }) => [n.id, n.leida])).toEqual([
      [pedido.body.ids[0], false],
      [single.body.ids[0], true],
      [stock.body.ids[0], true],
    ]);
    expect(body.unread_count).toBe(1);

    const replay = await openSocket(app.url, { token: signToken(muted), since: 0 });
    await replay.waitFor('catch_up');
    expect(replay.ids()).toEqual([pedido.body.ids[0]]);

    // Unmuting resurrects nothing.
    await put(muted, { silenciados: [] }).expect(200);
    const again = await request(app.url)
      .get('/notifications/api/list/')
      .set(bearer(signToken(muted)))
      .expect(200);
    expect(again.body.unread_count).toBe(1);
  });

  it('applies to staff sends and the in-process API', async () => {
    const admin = await createUser(app, { staff: true });
    await put(admin, { silenciados: ['stock'] }).expect(200);
    await send({ staff: true, mensaje: 'staff stock', tipo: 'stock' });
    const [row] = await app.dataSource.query<Array<{ leida: boolean }>>(
      'SELECT leida FROM notificaciones WHERE usuario_id = $1',
      [admin.id],
    );
    expect(row.leida).toBe(true);
    const created = await app.app
      .get(NotificationsService)
      .notificarUsuario(admin, 'in process', { tipo: 'stock' });
    expect(created.leida).toBe(true);
  });

  it.each<[string, unknown]>([
    ['51 kinds', { silenciados: Array.from({ length: 51 }, (_, i) => `t${i}`) }],
    ['a bad kind', { silenciados: ['Stock'] }],
    ['an empty kind', { silenciados: [''] }],
    ['a number', { silenciados: [1] }],
    ['null', { silenciados: null }],
    ['a string', { silenciados: 'stock' }],
    ['no field', {}],
    ['an unknown field', { silenciados: [], otro: 1 }],
  ])('PUT refuses %s with 400, changing nothing', async (_name, payload) => {
    const user = await createUser(app);
    await put(user, { silenciados: ['gasto'] }).expect(200);
    const { body } = await put(user, payload).expect(400);
    expect(body).toEqual({ statusCode: 400, message: expect.anything(), error: 'Bad Request' });
    const { body: kept } = await request(app.url)
      .get(PREFERENCES)
      .set(bearer(signToken(user)))
      .expect(200);
    expect(kept).toStrictEqual({ silenciados: ['gasto'] });
  });

  it('accepts the largest valid body: 50 kinds of 50 characters as \\u escapes, one per indented line', async () => {
    const user = await createUser(app);
    const kinds = Array.from({ length: SILENCIADOS_MAX }, (_, index) =>
      `k${String(index).padStart(2, '0')}`.padEnd(50, 'x'),
    );
    const escaped = (kind: string) =>
      [...kind].map((char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`).join('');
    const payload = `{\n    "silenciados": [\n${kinds.map((kind) => `        "${escaped(kind)}"`).join(',\n')}\n    ]\n}`;
    expect(Buffer.byteLength(payload)).toBeGreaterThan(15_000);
    expect(Buffer.byteLength(payload)).toBeLessThan(PREFERENCES_BODY_LIMIT);
    const { body } = await request(app.url)
      .put(PREFERENCES)
      .set(bearer(signToken(user)))
      .set('Content-Type', 'application/json')
      .send(payload)
      .expect(200);
    expect(body).toStrictEqual({ silenciados: [...kinds].sort() });
  });

  it('answers 401 without a token', async () => {
    await request(app.url).get(PREFERENCES).expect(401);
    await request(app.url).put(PREFERENCES).send({ silenciados: [] }).expect(401);
  });
});

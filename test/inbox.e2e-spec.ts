import request from 'supertest';
import { MARK_UNREAD_BODY_LIMIT, DELETE_BODY_LIMIT } from '../src/notifications/dto/inbox.dto';
import { User } from '../src/users/user.entity';
import { useApp } from './support/app';
import { BAD_IDS } from './support/bad-ids';
import { createUser, insertNotifications } from './support/fixtures';
import { leaderHasRead } from './support/delivery';
import { closeSockets, openSocket } from './support/socket-client';
import { bearer, signToken } from './support/tokens';

const API = '/notifications/api';

describe('mark unread, delete, unread count', () => {
  const app = useApp();
  afterEach(() => closeSockets());

  function post(user: User, route: string, body: unknown) {
    return request(app.url)
      .post(`${API}/${route}/`)
      .set(bearer(signToken(user)))
      .send(body as object);
  }

  async function rowsOf(user: User): Promise<Array<{ id: number; leida: boolean }>> {
    const rows = await app.dataSource.query<Array<{ id: string; leida: boolean }>>(
      'SELECT id, leida FROM notificaciones WHERE usuario_id = $1 ORDER BY id',
      [user.id],
    );
    return rows.map((row) => ({ id: Number(row.id), leida: row.leida }));
  }

  describe('GET unread-count', () => {
    it('answers the caller’s unread count only', async () => {
      const user = await createUser(app);
      const other = await createUser(app);
      await insertNotifications(app, user, [{}, { leida: true }, {}]);
      await insertNotifications(app, other, 5);
      const { body } = await request(app.url)
        .get(`${API}/unread-count/`)
        .set(bearer(signToken(user)))
        .expect(200)
        .expect('Cache-Control', /no-store/);
      expect(body).toStrictEqual({ unread_count: 2 });
      const bare = await request(app.url)
        .get(`${API}/unread-count`)
        .set(bearer(signToken(user)))
        .expect(200);
      expect(bare.body).toStrictEqual({ unread_count: 2 });
    });

    it('refuses a parameter it does not know with 400', async () => {
      const user = await createUser(app);
      const { body } = await request(app.url)
        .get(`${API}/unread-count/?tipo=pedido`)
        .set(bearer(signToken(user)))
        .expect(400);
      expect(body).toEqual({
        statusCode: 400,
        message: ['unknown parameter tipo'],
        error: 'Bad Request',
      });
    });

    it('answers 401 without a valid token', async () => {
      await request(app.url).get(`${API}/unread-count/`).expect(401);
      await request(app.url)
        .get(`${API}/unread-count/`)
        .set(bearer(signToken(1, { secret: 'not the secret' })))
        .expect(401);
    });
  });

  describe('POST mark-unread', () => {
    it('marks the caller’s read ones unread, ignoring others’ ids, and tells every socket', async () => {
      const user = await createUser(app);
      const other = await createUser(app);
      const ids = await insertNotifications(app, user, [{ leida: true }, { leida: true }, {}]);
      const [foreign] = await insertNotifications(app, other, [{ leida: true }]);
      const tabs = await Promise.all([
        openSocket(app.url, { token: signToken(user) }),
        openSocket(app.url, { token: signToken(user) }),
      ]);
      for (const tab of tabs) await tab.waitForUnreadCount(1);
      const { body } = await post(user, 'mark-unread', { ids: [ids[0], ids[2], foreign] }).expect(
        200,
      );
      // ids[2] was unread already: not counted as updated.
      expect(body).toStrictEqual({ updated: 1, unread_count: 2 });
      expect(await rowsOf(user)).toEqual([
        { id: ids[0], leida: false },
        { id: ids[1], leida: true },
        { id: ids[2], leida: false },
      ]);
      expect(await rowsOf(other)).toEqual([{ id: foreign, leida: true }]);
      for (const tab of tabs) await tab.waitForUnreadCount(2);

      // Someone else's id answers exactly like an id that does not exist.
      const foreignOnly = await post(user, 'mark-unread', { ids: [foreign] }).expect(200);
      const missing = await post(user, 'mark-unread', { ids: [Number.MAX_SAFE_INTEGER] }).expect(
        200,
      );
      expect(foreignOnly.body).toStrictEqual({ updated: 0, unread_count: 2 });
      expect(missing.body).toStrictEqual(foreignOnly.body);
    });

    it.each<[string, unknown]>([['ids [] (there is no "all")', { ids: [] }], ...BAD_IDS])(
      'refuses %s with 400 in Nest shape',
      async (_name, payload) => {
        const user = await createUser(app);
        await insertNotifications(app, user, [{ leida: true }]);
        const { body } = await post(user, 'mark-unread', payload).expect(400);
        expect(body).toEqual({ statusCode: 400, message: expect.anything(), error: 'Bad Request' });
        expect((await rowsOf(user))[0].leida).toBe(true);
      },
    );

    it('answers 401 without a token, and 413 past its limit', async () => {
      await request(app.url)
        .post(`${API}/mark-unread/`)
        .send({ ids: [1] })
        .expect(401);
      const user = await createUser(app);
      await request(app.url)
        .post(`${API}/mark-unread/`)
        .set(bearer(signToken(user)))
        .set('Content-Type', 'application/json')
        .send(`{"ids":[1]${' '.repeat(MARK_UNREAD_BODY_LIMIT)}}`)
        .expect(413);
    });
  });

  describe('POST delete', () => {
    it('deletes the given ids of the caller only, and tells every socket which went', async () => {
      const user = await createUser(app);
      const other = await createUser(app);
      const ids = await insertNotifications(app, user, [{}, { leida: true }, {}]);
      const [foreign] = await insertNotifications(app, other, 1);
      const tabs = await Promise.all([
        openSocket(app.url, { token: signToken(user) }),
        openSocket(app.url, { token: signToken(user) }),
      ]);
      const otherTab = await openSocket(app.url, { token: signToken(other) });
      for (const tab of tabs) await tab.waitForUnreadCount(2);
      const { body } = await post(user, 'delete', { ids: [ids[0], ids[1], foreign] }).expect(200);
      expect(body).toStrictEqual({ deleted: 2, unread_count: 1 });
      expect(await rowsOf(user)).toEqual([{ id: ids[2], leida: false }]);
      expect(await rowsOf(other)).toEqual([{ id: foreign, leida: false }]);
      for (const tab of tabs) {
        await expect(tab.waitFor('notificaciones_eliminadas')).resolves.toStrictEqual({
          ids: [ids[0], ids[1]],
        });
        await tab.waitForUnreadCount(1);
      }
      // The other user hears nothing of it.
      await otherTab.waitFor('unread_count');
      const again = await post(user, 'delete', { ids: [foreign] }).expect(200);
      expect(again.body).toStrictEqual({ deleted: 0, unread_count: 1 });
      expect(otherTab.all('notificaciones_eliminadas')).toEqual([]);
      expect(await rowsOf(other)).toEqual([{ id: foreign, leida: false }]);
    });

    it('ids [] deletes every read one of the caller’s ("clear read"), and no one else’s', async () => {
      const user = await createUser(app);
      const other = await createUser(app);
      const ids = await insertNotifications(app, user, [{ leida: true }, {}, { leida: true }]);
      const otherIds = await insertNotifications(app, other, [{ leida: true }]);
      const tab = await openSocket(app.url, { token: signToken(user) });
      await tab.waitForUnreadCount(1);
      const { body } = await post(user, 'delete', { ids: [] }).expect(200);
      expect(body).toStrictEqual({ deleted: 2, unread_count: 1 });
      expect(await rowsOf(user)).toEqual([{ id: ids[1], leida: false }]);
      expect(await rowsOf(other)).toEqual([{ id: otherIds[0], leida: true }]);
      await expect(tab.waitFor('notificaciones_eliminadas')).resolves.toStrictEqual({
        ids: [ids[0], ids[2]],
      });
      const nothing = await post(user, 'delete', { ids: [] }).expect(200);
      expect(nothing.body).toStrictEqual({ deleted: 0, unread_count: 1 });
    });

    it('a deleted notification is no longer listed, nor replayed on reconnect', async () => {
      const user = await createUser(app);
      const ids = await insertNotifications(app, user, 3);
      await post(user, 'delete', { ids: [ids[1]] }).expect(200);
      const { body } = await request(app.url)
        .get(`${API}/list/`)
        .set(bearer(signToken(user)))
        .expect(200);
      expect(body.notifications.map((n: { id: number }) => n.id)).toEqual([ids[2], ids[0]]);
      await leaderHasRead(app.dataSource, ids.at(-1)!);
      const tab = await openSocket(app.url, { token: signToken(user), since: 0 });
      await tab.waitFor('catch_up');
      expect(tab.ids()).toEqual([ids[0], ids[2]]);
    });

    it.each(BAD_IDS)('refuses %s with 400 in Nest shape', async (_name, payload) => {
      const user = await createUser(app);
      const ids = await insertNotifications(app, user, 1);
      const { body } = await post(user, 'delete', payload).expect(400);
      expect(body).toEqual({ statusCode: 400, message: expect.anything(), error: 'Bad Request' });
      expect((await rowsOf(user)).map((row) => row.id)).toEqual(ids);
    });

    it('answers 401 without a token, and 413 past its limit', async () => {
      await request(app.url).post(`${API}/delete/`).send({ ids: [] }).expect(401);
      const user = await createUser(app);
      await request(app.url)
        .post(`${API}/delete/`)
        .set(bearer(signToken(user)))
        .set('Content-Type', 'application/json')
        .send(`{"ids":[]${' '.repeat(DELETE_BODY_LIMIT)}}`)
        .expect(413);
    });
  });
});

import request from 'supertest';
import { User } from '../src/users/user.entity';
import { startApp, TestApp } from './support/app';
import { createUser, insertNotifications } from './support/fixtures';
import { bearer, signToken } from './support/tokens';

const LIST = '/notifications/api/list/';

describe('GET /notifications/api/list/', () => {
  let app: TestApp;
  let staff: User;
  beforeAll(async () => {
    app = await startApp();
    staff = await createUser(app, { staff: true });
  });
  afterAll(() => app.close());

  function list(user: User, query: Record<string, string | string[]> = {}, path = LIST) {
    return request(app.url)
      .get(path)
      .query(query)
      .set(bearer(signToken(user)));
  }

  /** Every page from the first, following next_cursor; `between` runs before each next fetch. */
  async function allPages(
    user: User,
    query: Record<string, string>,
    between: () => Promise<unknown> = () => Promise.resolve(),
  ) {
    const pages: Array<{ ids: number[]; unread_count: number }> = [];
    let cursor: string | null | undefined;
    do {
      if (cursor) await between();
      const { body } = await list(user, cursor ? { ...query, cursor } : query).expect(200);
      pages.push({
        ids: body.notifications.map((n: { id: number }) => n.id),
        unread_count: body.unread_count,
      });
      cursor = body.next_cursor;
    } while (cursor);
    return pages;
  }

  function send(usuarios: number[], mensaje: string) {
    return request(app.url)
      .post('/notifications/api/send/')
      .set(bearer(signToken(staff)))
      .send({ usuarios, mensaje })
      .expect(201);
  }

  it('answers exactly {notifications:[{id,mensaje,leida,fecha,tipo,url,datos}], unread_count, next_cursor}', async () => {
    const user = await createUser(app);
    const [id] = await insertNotifications(app, user, [
      { mensaje: 'Pedido #42 listo', fecha: '2025-03-06T10:30:00.123456Z' },
    ]);
    const response = await list(user)
      .expect(200)
      .expect('Content-Type', /application\/json/);
    expect(response.body).toStrictEqual({
      notifications: [
        {
          id,
          mensaje: 'Pedido #42 listo',
          leida: false,
          fecha: '2025-03-06T10:30:00.123Z',
          tipo: 'general',
          url: null,
          datos: null,
        },
      ],
      unread_count: 1,
      next_cursor: null,
    });
    // The seed's four fields first, in their order, then the additions.
    expect(Object.keys(response.body.notifications[0])).toEqual([
      'id',
      'mensaje',
      'leida',
      'fecha',
      'tipo',
      'url',
      'datos',
    ]);
  });

  it('answers the same without the trailing slash', async () => {
    const user = await createUser(app);
    await insertNotifications(app, user, 2);
    const withSlash = await list(user).expect(200);
    const without = await list(user, {}, '/notifications/api/list').expect(200);
    expect(without.body).toStrictEqual(withSlash.body);
    expect(without.body.notifications).toHaveLength(2);
  });

  it('answers an empty page for a user without notifications', async () => {
    const user = await createUser(app);
    const { body } = await list(user).expect(200);
    expect(body).toStrictEqual({ notifications: [], unread_count: 0, next_cursor: null });
  });

  it('lists newest first: fecha DESC, then id DESC among equal fechas', async () => {
    const user = await createUser(app);
    // Inserted out of order; the two 11:00 rows share a fecha, so only their ids order them.
    const ids = await insertNotifications(app, user, [
      { fecha: '2025-01-01T10:00:00.000000Z' },
      { fecha: '2025-01-01T12:00:00.000000Z' },
      { fecha: '2025-01-01T11:00:00.000000Z' },
      { fecha: '2025-01-01T11:00:00.000000Z' },
      { fecha: '2025-01-01T09:00:00.000000Z' },
    ]);
    const { body } = await list(user).expect(200);
    expect(body.notifications.map((n: { id: number }) => n.id)).toEqual([
      ids[1],
      ids[3],
      ids[2],
      ids[0],
      ids[4],
    ]);
  });

  describe('limit', () => {
    let user: User;
    beforeAll(async () => {
      user = await createUser(app);
      await insertNotifications(app, user, 101);
    });

    it('defaults to 20', async () => {
      const { body } = await list(user).expect(200);
      expect(body.notifications).toHaveLength(20);
      expect(body.next_cursor).toEqual(expect.any(String));
    });

    it.each([
      ['1', 1],
      ['7', 7],
      ['100', 100],
    ])('accepts limit=%s', async (limit, size) => {
      const { body } = await list(user, { limit }).expect(200);
      expect(body.notifications).toHaveLength(size);
    });

    it.each([
      ['0'],
      ['101'],
      ['-1'],
      ['abc'],
      ['1.5'],
      [''],
      [['5', '6']],
      [['5', '5']],
      // Number() takes each of these; the contract wants plain decimal digits.
      ['1e1'],
      ['0x10'],
      [' 5'],
      ['5 '],
      ['+5'],
      ['5.0'],
      ['0b101'],
      ['١٠'],
    ])('rejects limit=%j with a 400 in Nest shape', async (limit) => {
      const { body } = await list(user, { limit }).expect(400);
      expect(body).toEqual({
        statusCode: 400,
        message: expect.arrayContaining([expect.stringMatching(/limit/)]),
        error: 'Bad Request',
      });
    });

    it('gives no next_cursor when the page ends exactly at the last row', async () => {
      const exact = await createUser(app);
      await insertNotifications(app, exact, 20);
      const { body } = await list(exact).expect(200);
      expect(body.notifications).toHaveLength(20);
      expect(body.next_cursor).toBeNull();
    });
  });

  it.each([
    [{ foo: '1' }],
    [{ limit: '5', sort: 'asc' }],
    [{ offset: '20' }],
    [{ 'limit[]': '5' }],
    [{ constructor: '1' }],
  ])('rejects unknown query parameters %j with 400', async (query) => {
    const user = await createUser(app);
    const { body } = await list(user, query).expect(400);
    expect(body).toMatchObject({ statusCode: 400, error: 'Bad Request' });
    expect(body.message).toEqual([expect.stringMatching(/^unknown parameter /)]);
  });

  it('takes limit with leading zeros (still plain digits)', async () => {
    const user = await createUser(app);
    await insertNotifications(app, user, 3);
    const { body } = await list(user, { limit: '002' }).expect(200);
    expect(body.notifications).toHaveLength(2);
  });

  it.each([
    ['unread', ['true', 'false']],
    ['limit', ['5', '5']],
    ['cursor', ['a', 'a']],
  ])('rejects %s given twice with 400 saying so', async (name, values) => {
    const user = await createUser(app);
    const { body } = await list(user, { [name]: values }).expect(400);
    expect(body).toEqual({
      statusCode: 400,
      message: [`${name} must be given once`],
      error: 'Bad Request',
    });
  });

  describe('cursor', () => {
    it('walks every page once, in order, with no skips or repeats', async () => {
      const user = await createUser(app);
      // One statement: every row shares now(), so the cursor must carry the id to break ties.
      const ids = await insertNotifications(app, user, 23);
      const pages = await allPages(user, { limit: '5' });
      expect(pages.map((page) => page.ids.length)).toEqual([5, 5, 5, 5, 3]);
      expect(pages.flatMap((page) => page.ids)).toEqual([...ids].reverse());
    });

    it('keeps microsecond order within one millisecond (the JSON fecha has only ms)', async () => {
      const user = await createUser(app);
      // Ids run opposite to fecha: a cursor rebuilt from the ms value would reorder or skip.
      const fechas = Array.from(
        { length: 9 },
        (_, i) => `2025-05-05T05:05:05.123${String(900 - i * 100).padStart(3, '0')}Z`,
      );
      const ids = await insertNotifications(
        app,
        user,
        fechas.map((fecha) => ({ fecha })),
      );
      const pages = await allPages(user, { limit: '2' });
      expect(pages.flatMap((page) => page.ids)).toEqual(ids);
    });

    it('stays stable while new notifications arrive between page fetches', async () => {
      const user = await createUser(app);
      const older = await insertNotifications(
        app,
        user,
        Array.from({ length: 12 }, (_, i) => ({
          fecha: `2025-02-0${1 + (i % 3)}T00:00:00.00000${i % 2}Z`,
        })),
      );
      const expected = (
        await app.dataSource.query<Array<{ id: string }>>(
          'SELECT id FROM notificaciones WHERE usuario_id = $1 ORDER BY fecha DESC, id DESC',
          [user.id],
        )
      ).map((row) => Number(row.id));
      expect([...expected].sort((a, b) => a - b)).toEqual(older);

      const arrived: number[] = [];
      const pages = await allPages(user, { limit: '4' }, async () => {
        const { body } = await send([user.id], 'nueva');
        arrived.push(...body.ids);
      });
      expect(arrived).toHaveLength(2);
      expect(pages.flatMap((page) => page.ids)).toEqual(expected);
      // The new ones are there for a client that starts over.
      const { body } = await list(user, { limit: '2' }).expect(200);
      expect(body.notifications.map((n: { id: number }) => n.id)).toEqual([...arrived].reverse());
    });

    it.each([
      ['garbage', 'not-a-cursor'],
      ['empty', ''],
      ['a number', '12345'],
      ['base64 of junk', Buffer.from('hello|world').toString('base64url')],
      ['an impossible date', Buffer.from('2025-02-30T00:00:00.000000Z|5').toString('base64url')],
      ['year zero', Buffer.from('0000-01-01T00:00:00.000000Z|5').toString('base64url')],
      ['a bad id', Buffer.from('2025-02-01T00:00:00.000000Z|0').toString('base64url')],
      ['too long', 'A'.repeat(500)],
    ])('rejects %s as cursor with 400 in Nest shape', async (_name, cursor) => {
      const user = await createUser(app);
      const { body } = await list(user, { cursor }).expect(400);
      expect(body).toEqual({
        statusCode: 400,
        message: expect.anything(),
        error: 'Bad Request',
      });
    });

    it('rejects a repeated cursor parameter with 400', async () => {
      const user = await createUser(app);
      await insertNotifications(app, user, 3);
      const { body } = await list(user, { limit: '1' }).expect(200);
      await list(user, { cursor: [body.next_cursor, body.next_cursor] }).expect(400);
    });
  });

  describe('unread', () => {
    let user: User;
    let unread: number[];
    beforeAll(async () => {
      user = await createUser(app);
      const ids = await insertNotifications(
        app,
        user,
        Array.from({ length: 9 }, (_, i) => ({ leida: i % 3 === 0 })),
      );
      unread = ids.filter((_, i) => i % 3 !== 0);
    });

    it('unread=true lists only unread ones, newest first, across pages', async () => {
      const pages = await allPages(user, { unread: 'true', limit: '4' });
      expect(pages.flatMap((page) => page.ids)).toEqual([...unread].reverse());
    });

    it('unread=false or no filter lists read ones too', async () => {
      for (const query of [{}, { unread: 'false' }] as Array<Record<string, string>>) {
        const { body } = await list(user, query).expect(200);
        expect(body.notifications).toHaveLength(9);
        expect(body.notifications.filter((n: { leida: boolean }) => n.leida)).toHaveLength(3);
      }
    });

    it('unread_count is the caller’s total unread, whatever the page or filter', async () => {
      for (const query of [
        { limit: '1' },
        { unread: 'true', limit: '2' },
        { limit: '100' },
      ] as Array<Record<string, string>>) {
        const pages = await allPages(user, query);
        expect(pages.map((page) => page.unread_count)).toEqual(pages.map(() => unread.length));
      }
    });

    it.each([['1'], ['yes'], ['TRUE'], [['true', 'true']]])(
      'rejects unread=%j with 400',
      async (value) => {
        const { body } = await list(user, { unread: value }).expect(400);
        expect(body).toMatchObject({ statusCode: 400, error: 'Bad Request' });
      },
    );
  });

  it('never shows one user another user’s notifications', async () => {
    const alice = await createUser(app);
    const bob = await createUser(app);
    const aliceIds = await insertNotifications(app, alice, 3);
    const bobIds = await insertNotifications(app, bob, 4);
    const forAlice = await allPages(alice, { limit: '2' });
    const forBob = await allPages(bob, { limit: '2' });
    expect(forAlice.flatMap((page) => page.ids)).toEqual([...aliceIds].reverse());
    expect(forBob.flatMap((page) => page.ids)).toEqual([...bobIds].reverse());
    expect(forAlice[0].unread_count).toBe(3);
    expect(forBob[0].unread_count).toBe(4);

    // Bob's cursor is only a position: in Alice's hands it pages Alice's rows.
    const { body: bobPage } = await list(bob, { limit: '1' }).expect(200);
    const { body } = await list(alice, { cursor: bobPage.next_cursor }).expect(200);
    for (const notification of body.notifications) expect(aliceIds).toContain(notification.id);
  });
});

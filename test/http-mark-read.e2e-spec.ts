import request from 'supertest';
import { User } from '../src/users/user.entity';
import { bearer, createUser, insertNotifications, signToken, startApp, TestApp } from './factories';

const MARK_READ = '/notifications/api/mark-read/';
const ONE_MIB = 1024 * 1024;

describe('POST /notifications/api/mark-read/', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startApp();
  });
  afterAll(() => app.close());

  function markRead(user: User, body: unknown, path = MARK_READ) {
    return request(app.url)
      .post(path)
      .set(bearer(signToken(user)))
      .send(body as object);
  }

  /** A raw JSON body, exactly as given. */
  function markReadRaw(user: User, body: string) {
    return request(app.url)
      .post(MARK_READ)
      .set(bearer(signToken(user)))
      .set('Content-Type', 'application/json')
      .send(body);
  }

  async function unreadIds(user: User): Promise<number[]> {
    const rows = await app.dataSource.query<Array<{ id: string }>>(
      'SELECT id FROM notificaciones WHERE usuario_id = $1 AND NOT leida ORDER BY id',
      [user.id],
    );
    return rows.map((row) => Number(row.id));
  }

  it('marks the given ids read and answers 200 {updated, unread_count}', async () => {
    const user = await createUser(app);
    const ids = await insertNotifications(app, user, 5);
    const response = await markRead(user, { ids: [ids[0], ids[2]] })
      .expect(200)
      .expect('Content-Type', /application\/json/);
    expect(response.body).toStrictEqual({ updated: 2, unread_count: 3 });
    expect(await unreadIds(user)).toEqual([ids[1], ids[3], ids[4]]);

    const { body } = await request(app.url)
      .get('/notifications/api/list/')
      .set(bearer(signToken(user)))
      .expect(200);
    expect(body.unread_count).toBe(3);
    const readInList = body.notifications
      .filter((n: { leida: boolean }) => n.leida)
      .map((n: { id: number }) => n.id);
    expect(readInList.sort()).toEqual([ids[0], ids[2]].sort());
  });

  it('works without the trailing slash', async () => {
    const user = await createUser(app);
    const ids = await insertNotifications(app, user, 2);
    const { body } = await markRead(user, { ids: [ids[1]] }, '/notifications/api/mark-read').expect(
      200,
    );
    expect(body).toStrictEqual({ updated: 1, unread_count: 1 });
  });

  it('counts only what it changed: already-read and repeated ids are not updated again', async () => {
    const user = await createUser(app);
    const ids = await insertNotifications(app, user, [{ leida: true }, {}, {}]);
    const { body } = await markRead(user, { ids: [ids[0], ids[1], ids[1]] }).expect(200);
    expect(body).toStrictEqual({ updated: 1, unread_count: 1 });
    const again = await markRead(user, { ids: [ids[1]] }).expect(200);
    expect(again.body).toStrictEqual({ updated: 0, unread_count: 1 });
  });

  it('ids [] marks all the caller’s unread as read', async () => {
    const user = await createUser(app);
    await insertNotifications(app, user, [{}, { leida: true }, {}, {}]);
    const { body } = await markRead(user, { ids: [] }).expect(200);
    expect(body).toStrictEqual({ updated: 3, unread_count: 0 });
    expect(await unreadIds(user)).toEqual([]);
    const again = await markRead(user, { ids: [] }).expect(200);
    expect(again.body).toStrictEqual({ updated: 0, unread_count: 0 });
  });

  it('ids [] leaves other users’ notifications alone', async () => {
    const user = await createUser(app);
    const other = await createUser(app);
    await insertNotifications(app, user, 2);
    const otherIds = await insertNotifications(app, other, 2);
    await markRead(user, { ids: [] }).expect(200);
    expect(await unreadIds(other)).toEqual(otherIds);
  });

  it('ignores other users’ ids: never updated, never revealed', async () => {
    const alice = await createUser(app);
    const bob = await createUser(app);
    const aliceIds = await insertNotifications(app, alice, 2);
    const bobIds = await insertNotifications(app, bob, 3);

    const mixed = await markRead(alice, { ids: [bobIds[0], aliceIds[0], bobIds[1]] }).expect(200);
    expect(mixed.body).toStrictEqual({ updated: 1, unread_count: 1 });
    expect(await unreadIds(bob)).toEqual(bobIds);

    // Someone else's id answers exactly like an id that does not exist.
    const foreign = await markRead(alice, { ids: [bobIds[2]] }).expect(200);
    const missing = await markRead(alice, { ids: [Number.MAX_SAFE_INTEGER] }).expect(200);
    expect(foreign.body).toStrictEqual({ updated: 0, unread_count: 1 });
    expect(missing.body).toStrictEqual(foreign.body);

    const { body } = await request(app.url)
      .get('/notifications/api/list/')
      .set(bearer(signToken(bob)))
      .expect(200);
    expect(body.unread_count).toBe(3);
    expect(body.notifications.every((n: { leida: boolean }) => !n.leida)).toBe(true);
  });

  it('accepts 1,000 ids', async () => {
    const user = await createUser(app);
    const ids = await insertNotifications(app, user, 1000);
    const { body } = await markRead(user, { ids }).expect(200);
    expect(body).toStrictEqual({ updated: 1000, unread_count: 0 });
  });

  it.each<[string, unknown]>([
    ['1,001 ids', { ids: Array.from({ length: 1001 }, (_, i) => i + 1) }],
    ['a zero id', { ids: [0] }],
    ['a negative id', { ids: [-1] }],
    ['a fractional id', { ids: [1.5] }],
    ['a string id', { ids: ['1'] }],
    ['a null id', { ids: [null] }],
    ['a boolean id', { ids: [true] }],
    ['a nested array', { ids: [[1]] }],
    ['an id past 2^53', { ids: [2 ** 60] }],
    ['ids as a string', { ids: '1,2' }],
    ['ids as a number', { ids: 1 }],
    ['ids as an object', { ids: { 0: 1 } }],
    ['ids null', { ids: null }],
    ['no ids', {}],
    ['an unknown field', { ids: [], all: true }],
    ['a JSON array body', [1, 2]],
  ])('rejects %s with 400 in Nest shape', async (_name, payload) => {
    const user = await createUser(app);
    const ids = await insertNotifications(app, user, 1);
    const { body } = await markRead(user, payload).expect(400);
    expect(body).toEqual({
      statusCode: 400,
      message: expect.anything(),
      error: 'Bad Request',
    });
    expect(await unreadIds(user)).toEqual(ids);
  });

  it.each([
    ['no body', undefined],
    ['a form body', 'ids=1'],
  ])('rejects %s with 400', async (_name, payload) => {
    const user = await createUser(app);
    const call = request(app.url)
      .post(MARK_READ)
      .set(bearer(signToken(user)));
    const { body } = await (payload === undefined ? call : call.type('form').send(payload)).expect(
      400,
    );
    expect(body).toMatchObject({ statusCode: 400, error: 'Bad Request' });
  });

  it.each([
    ['truncated JSON', '{"ids": [1, 2'],
    ['single quotes', "{'ids': []}"],
    ['a trailing comma', '{"ids": [1,],}'],
    ['a bare string', '"ids"'],
    ['null', 'null'],
  ])('rejects %s as malformed JSON with 400 in Nest shape', async (_name, payload) => {
    const user = await createUser(app);
    const { body } = await markReadRaw(user, payload).expect(400);
    expect(body).toEqual({
      statusCode: 400,
      message: expect.any(String),
      error: 'Bad Request',
    });
  });

  it('takes a body of exactly 1 MiB', async () => {
    const user = await createUser(app);
    const ids = await insertNotifications(app, user, 2);
    const json = JSON.stringify({ ids });
    // JSON allows any amount of whitespace: pad the body to the limit with it.
    const payload = json.slice(0, -1) + ' '.repeat(ONE_MIB - json.length) + '}';
    expect(Buffer.byteLength(payload)).toBe(ONE_MIB);
    const { body } = await markReadRaw(user, payload).expect(200);
    expect(body).toStrictEqual({ updated: 2, unread_count: 0 });
  });

  it('refuses a body over 1 MiB with 413 in Nest shape', async () => {
    const user = await createUser(app);
    const ids = await insertNotifications(app, user, 1);
    const payload = '{"ids":[]' + ' '.repeat(ONE_MIB - 9) + '}';
    expect(Buffer.byteLength(payload)).toBe(ONE_MIB + 1);
    const { body } = await markReadRaw(user, payload).expect(413);
    expect(body).toEqual({
      statusCode: 413,
      message: expect.any(String),
      error: 'Payload Too Large',
    });
    expect(await unreadIds(user)).toEqual(ids);
  });
});

import request from 'supertest';
import { MARK_READ_BODY_LIMIT } from '../src/notifications/dto/mark-read.dto';
import { User } from '../src/users/user.entity';
import { useApp } from './support/app';
import { BAD_IDS } from './support/bad-ids';
import { createUser, insertNotifications } from './support/fixtures';
import { bearer, signToken } from './support/tokens';

const MARK_READ = '/notifications/api/mark-read/';

/** `{"ids":[]}` and `keys` more keys. */
const keyed = (keys: number) =>
  '{"ids":[]' + Array.from({ length: keys }, (_, i) => `,"k${i}":1`).join('') + '}';
/** `1` inside `levels` arrays. */
const nested = (levels: number) => '['.repeat(levels) + '1' + ']'.repeat(levels);

describe('POST /notifications/api/mark-read/', () => {
  const app = useApp();

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

  it.each(BAD_IDS)('rejects %s with 400 in Nest shape', async (_name, payload) => {
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

  it('takes the largest valid body: 1,000 ids of 16 digits, one per indented line', async () => {
    const user = await createUser(app);
    const ids = Array.from({ length: 1000 }, (_, i) => Number.MAX_SAFE_INTEGER - i);
    const payload = JSON.stringify({ ids }, null, 4);
    expect(Buffer.byteLength(payload)).toBeLessThan(MARK_READ_BODY_LIMIT);
    const { body } = await markReadRaw(user, payload).expect(200);
    expect(body).toStrictEqual({ updated: 0, unread_count: 0 });
  });

  it('takes a body of exactly its limit, and refuses one byte more with 413 in Nest shape', async () => {
    const user = await createUser(app);
    const ids = await insertNotifications(app, user, 2);
    const json = JSON.stringify({ ids });
    // JSON allows any amount of whitespace: pad the body to the limit with it.
    const exact = json.slice(0, -1) + ' '.repeat(MARK_READ_BODY_LIMIT - json.length) + '}';
    expect(Buffer.byteLength(exact)).toBe(MARK_READ_BODY_LIMIT);
    const over = exact.slice(0, -1) + ' }';
    const { body } = await markReadRaw(user, over).expect(413);
    expect(body).toEqual({
      statusCode: 413,
      message: expect.any(String),
      error: 'Payload Too Large',
    });
    expect(await unreadIds(user)).toEqual(ids);
    const accepted = await markReadRaw(user, exact).expect(200);
    expect(accepted.body).toStrictEqual({ updated: 2, unread_count: 0 });
  });

  describe('the shape of the JSON, refused before it is parsed or walked', () => {
    it.each<[string, string, RegExp]>([
      ['an object of 1,001 keys', keyed(1000), /more than 1000 keys/],
      ['an array of 10,001 elements', `{"ids":[${'1,'.repeat(10_000)}1]}`, /more than 10000/],
      ['1,400 levels (a stack overflow, and a 500, before)', `{"ids":${nested(1399)}}`, /32/],
      ['33 levels', `{"ids":${nested(32)}}`, /deeper than 32 levels/],
      ['33 levels of objects', '{"ids":[],"a":' + '{"a":'.repeat(32) + '1' + '}'.repeat(33), /32/],
    ])('%s: 400 in Nest shape', async (_name, payload, message) => {
      const user = await createUser(app);
      const ids = await insertNotifications(app, user, 1);
      const { body } = await markReadRaw(user, payload).expect(400);
      expect(body).toEqual({ statusCode: 400, message: expect.any(String), error: 'Bad Request' });
      expect(body.message).toMatch(message);
      expect(await unreadIds(user)).toEqual(ids);
    });

    it('counts structure only outside strings: brackets, commas and escaped quotes in text', async () => {
      const user = await createUser(app);
      const text = JSON.stringify('[[[{{,,\\"' + '['.repeat(100) + ',"'.repeat(2000));
      const { body } = await markReadRaw(user, `{"ids":[],"nota":${text}}`).expect(400);
      // Parsed, and refused for the key the DTO does not declare, not for its shape.
      expect(body.message).toEqual(['property nota should not exist']);
    });

    it('32 levels is within the limit (and refused by validation, not by shape)', async () => {
      const user = await createUser(app);
      const { body } = await markReadRaw(user, `{"ids":${nested(31)}}`).expect(400);
      expect(body.message).toEqual(['ids must hold plain values, not objects or nested arrays']);
    });

    it('1,000 unknown keys: 400 naming ten of them, before class-transformer walks them', async () => {
      const user = await createUser(app);
      const started = Date.now();
      const { body } = await markReadRaw(user, keyed(999)).expect(400);
      expect(Date.now() - started).toBeLessThan(2000);
      expect(body.message).toHaveLength(11);
      expect(body.message[0]).toBe('property k0 should not exist');
      expect(body.message[10]).toBe('and 989 more');
    });

    it('40,000 keys (5 s of event loop before): 413, never read', async () => {
      const user = await createUser(app);
      await markReadRaw(user, keyed(40_000)).expect(413);
    });

    it('refuses JSON in another charset than UTF-8 with 415', async () => {
      const user = await createUser(app);
      const { body } = await request(app.url)
        .post(MARK_READ)
        .set(bearer(signToken(user)))
        .set('Content-Type', 'application/json; charset=utf-16le')
        .send(Buffer.from('{"ids":[]}', 'utf16le'))
        .expect(415);
      expect(body).toMatchObject({ statusCode: 415, error: 'Unsupported Media Type' });
    });
  });

  describe('the caller before the body', () => {
    it.each<[string, string | undefined]>([
      ['no token', undefined],
      ['a forged token', signToken(1, { secret: 'not the secret' })],
      ['an expired token', signToken(1, { expiresIn: -10 })],
    ])('%s: 401 whatever the body, which is never parsed', async (_name, token) => {
      for (const payload of ['{"ids": [1, 2', `{"ids":${'['.repeat(5000)}`, keyed(2000)]) {
        let call = request(app.url).post(MARK_READ).set('Content-Type', 'application/json');
        if (token) call = call.set(bearer(token));
        const { body } = await call.send(payload).expect(401);
        expect(body).toMatchObject({ statusCode: 401, error: 'Unauthorized' });
      }
      // Over the route's limit too: a client that cannot call the route learns nothing more.
      let big = request(app.url).post(MARK_READ).set('Content-Type', 'application/json');
      if (token) big = big.set(bearer(token));
      await big.send(`{"ids":${'['.repeat(512 * 1024)}`).expect(401);
    });
  });
});

import { randomInt } from 'node:crypto';
import request from 'supertest';
import { PUT_USER_BODY_LIMIT } from '../src/users/dto/put-user.dto';
import { User } from '../src/users/user.entity';
import { startApp, TestApp } from './support/app';
import { createTestDatabase } from './support/database';
import { createUser } from './support/fixtures';
import { closeSockets, disconnection, openSocket } from './support/socket-client';
import { bearer, signToken } from './support/tokens';

describe('PUT /notifications/api/users/{id}/', () => {
  let app: TestApp;
  let staff: User;
  beforeAll(async () => {
    app = await startApp();
    staff = await createUser(app, { staff: true });
  });
  afterEach(() => closeSockets());
  afterAll(() => app.close());

  /** An id no other test uses: the host's ids are its own. */
  const hostId = (): number => randomInt(1_000_000, 2_000_000_000);
  const username = (): string => `host-${randomInt(1e9)}`;

  function put(id: number | string, body: unknown, caller: User | null = staff) {
    const call = request(app.url).put(`/notifications/api/users/${id}/`);
    if (caller) call.set(bearer(signToken(caller)));
    return call.send(body as object);
  }

  it('creates a user with the host’s id (201), then updates it (200)', async () => {
    const id = hostId();
    const name = username();
    const created = await put(id, { username: name, is_staff: false, is_active: true });
    expect(created.status).toBe(201);
    expect(created.body).toEqual({ id, username: name, is_staff: false, is_active: true });
    const updated = await put(id, { username: `${name}-x`, is_staff: true, is_active: true });
    expect(updated.status).toBe(200);
    expect(updated.body).toEqual({ id, username: `${name}-x`, is_staff: true, is_active: true });
    // The host's token for that id works, and the user is staff now.
    await request(app.url)
      .post('/notifications/api/send/')
      .set(bearer(signToken(id)))
      .send({ usuarios: [id], mensaje: 'hola' })
      .expect(201);
  });

  it('moves the id sequence past a host id', async () => {
    const id = hostId();
    await put(id, { username: username(), is_staff: false, is_active: true }).expect(201);
    const [{ top }] = await app.dataSource.query<Array<{ top: string }>>(
      `SELECT pg_sequence_last_value(pg_get_serial_sequence('users', 'id')::regclass) AS top`,
    );
    expect(Number(top)).toBeGreaterThanOrEqual(id);
  });

  it('401 without a token, 403 for a user who is not staff', async () => {
    const body = { username: username(), is_staff: false, is_active: true };
    await put(hostId(), body, null).expect(401);
    const plain = await createUser(app);
    const refused = await put(hostId(), body, plain);
    expect(refused.status).toBe(403);
    expect(refused.body).toEqual({ statusCode: 403, message: 'staff only', error: 'Forbidden' });
  });

  it('409 when another user has the username', async () => {
    const other = await createUser(app);
    await put(hostId(), { username: other.username, is_staff: false, is_active: true }).expect(409);
  });

  const valid = { username: 'valid-name', is_staff: false, is_active: true };
  it.each<[string, string | number, unknown]>([
    ['a non-numeric id', 'abc', valid],
    ['id 0', 0, valid],
    ['an id in exponent form', '1e3', valid],
    ['an id past integer', 2_147_483_648, valid],
    ['a missing username', 1_234_567, { is_staff: false, is_active: true }],
    ['an empty username', 1_234_567, { ...valid, username: '' }],
    ['a username of 151 characters', 1_234_567, { ...valid, username: 'ñ'.repeat(151) }],
    ['a username with spaces around', 1_234_567, { ...valid, username: ' x ' }],
    ['a username that is a number', 1_234_567, { ...valid, username: 5 }],
    ['is_staff as a string', 1_234_567, { ...valid, is_staff: 'true' }],
    ['is_active null', 1_234_567, { ...valid, is_active: null }],
    ['a missing is_active', 1_234_567, { username: 'x', is_staff: false }],
    ['an unknown field', 1_234_567, { ...valid, password: 'x' }],
    ['an array', 1_234_567, [valid]],
  ])('400 for %s, in Nest’s error shape', async (_name, id, body) => {
    const response = await put(id, body);
    expect(response.status).toBe(400);
    expect(response.body).toMatchObject({ statusCode: 400, error: 'Bad Request' });
  });

  it('400 for malformed JSON, 413 past the route’s limit', async () => {
    const malformed = await request(app.url)
      .put('/notifications/api/users/1234567/')
      .set(bearer(signToken(staff)))
      .set('Content-Type', 'application/json')
      .send('{"username": ');
    expect(malformed.status).toBe(400);
    const large = await put(1_234_567, { ...valid, username: 'x'.repeat(PUT_USER_BODY_LIMIT) });
    expect(large.status).toBe(413);
  });

  it('deactivation refuses the user at once and closes its socket from this instance', async () => {
    const id = hostId();
    const body = { username: username(), is_staff: false, is_active: true };
    await put(id, body).expect(201);
    const tab = await openSocket(app.url, { token: signToken(id) });
    const closed = disconnection(tab.socket);
    await put(id, { ...body, is_active: false }).expect(200);
    // The instance closes the socket before it answers the PUT; one more round trip is margin
    // enough for the close to be read, far below the deactivation watcher's period.
    await request(app.url).get('/health').expect(200);
    expect(tab.socket.connected).toBe(false);
    expect((await closed).reason).toBe('io server disconnect');
    await request(app.url)
      .get('/notifications/api/list/')
      .set(bearer(signToken(id)))
      .expect(401);
  });
});

describe('PUT /notifications/api/users/{id}/ with the highest id there is', () => {
  // On a database of its own: the host taking the last id leaves none for users created here.
  let own: Awaited<ReturnType<typeof createTestDatabase>>;
  let app: TestApp;
  beforeAll(async () => {
    own = await createTestDatabase();
    app = await startApp({ DATABASE_URL: own.database.url });
  });
  afterAll(async () => {
    await app?.close();
    await own?.stop();
  });

  it('leaves users created here a clear 409, never a 500', async () => {
    const staff = await createUser(app, { staff: true });
    await request(app.url)
      .put('/notifications/api/users/2147483647/')
      .set(bearer(signToken(staff)))
      .send({ username: 'ultimo', is_staff: false, is_active: true })
      .expect(201);
    // The demo page's user list creates its users on first use.
    const listed = await request(app.url).get('/demo/users');
    expect(listed.status).toBe(409);
    expect(listed.body.message).toMatch(/no user id is left/);
    // The host's own route keeps working.
    await request(app.url)
      .put('/notifications/api/users/2147483646/')
      .set(bearer(signToken(staff)))
      .send({ username: 'penultimo', is_staff: false, is_active: true })
      .expect(201);
  });
});

import request from 'supertest';
import { SEND_BODY_LIMIT } from '../src/notifications/dto/send.dto';
import { NotificationsService } from '../src/notifications/notifications.service';
import { User } from '../src/users/user.entity';
import { startApp, TestApp } from './support/app';
import { createUser } from './support/fixtures';
import { connectSocket, nextEvent } from './support/socket-client';
import { bearer, signToken } from './support/tokens';

const SEND = '/notifications/api/send/';

describe('POST /notifications/api/send/', () => {
  let app: TestApp;
  let staff: User;
  beforeAll(async () => {
    app = await startApp();
    staff = await createUser(app, { staff: true });
  });
  afterAll(() => app.close());

  function send(body: unknown, caller: User = staff, path = SEND) {
    return request(app.url)
      .post(path)
      .set(bearer(signToken(caller)))
      .send(body as object);
  }

  /** usuario_id of each notification id, in the order given. */
  async function ownersOf(ids: number[]): Promise<number[]> {
    const rows = await app.dataSource.query<Array<{ id: string; usuario_id: number }>>(
      'SELECT id, usuario_id FROM notificaciones WHERE id = ANY($1::bigint[])',
      [ids],
    );
    const owner = new Map(rows.map((row) => [Number(row.id), row.usuario_id]));
    return ids.map((id) => owner.get(id)!);
  }

  async function countFor(users: User[]): Promise<number> {
    const [row] = await app.dataSource.query<Array<{ count: number }>>(
      'SELECT count(*)::int AS count FROM notificaciones WHERE usuario_id = ANY($1::int[])',
      [users.map((user) => user.id)],
    );
    return row.count;
  }

  async function mensajesOf(user: User): Promise<string[]> {
    const { body } = await request(app.url)
      .get('/notifications/api/list/')
      .set(bearer(signToken(user)))
      .expect(200);
    return (body.notifications as Array<{ mensaje: string }>).map((n) => n.mensaje);
  }

  it('creates one notification per user: 201 {created, ids} in the order of usuarios', async () => {
    const [a, b, c] = await Promise.all([createUser(app), createUser(app), createUser(app)]);
    const response = await send({ usuarios: [c.id, a.id, b.id], mensaje: 'Pedido #42 listo' })
      .expect(201)
      .expect('Content-Type', /application\/json/);
    expect(response.body).toStrictEqual({ created: 3, ids: expect.any(Array) });
    expect(await ownersOf(response.body.ids)).toEqual([c.id, a.id, b.id]);
    for (const user of [a, b, c]) expect(await mensajesOf(user)).toEqual(['Pedido #42 listo']);
  });

  it('works without the trailing slash', async () => {
    const user = await createUser(app);
    const { body } = await send(
      { usuarios: [user.id], mensaje: 'hola' },
      staff,
      '/notifications/api/send',
    ).expect(201);
    expect(body.created).toBe(1);
  });

  it('treats usuarios as a set: a repeated id gets one notification', async () => {
    const [a, b] = await Promise.all([createUser(app), createUser(app)]);
    const { body } = await send({ usuarios: [a.id, a.id, b.id, a.id], mensaje: 'uno' }).expect(201);
    expect(body.created).toBe(2);
    expect(await ownersOf(body.ids)).toEqual([a.id, b.id]);
    expect(await mensajesOf(a)).toEqual(['uno']);
  });

  it('forbids non-staff callers with 403 in Nest shape, storing nothing', async () => {
    const caller = await createUser(app);
    const target = await createUser(app);
    const { body } = await send({ usuarios: [target.id], mensaje: 'hola' }, caller).expect(403);
    expect(body).toEqual({ statusCode: 403, message: expect.any(String), error: 'Forbidden' });
    expect(await countFor([target])).toBe(0);
    await send({ staff: true, mensaje: 'hola' }, caller).expect(403);
  });

  it('{staff: true} notifies every active staff user and nobody else', async () => {
    const [staffA, staffB, inactiveStaff, plain] = await Promise.all([
      createUser(app, { staff: true }),
      createUser(app, { staff: true }),
      createUser(app, { staff: true, active: false }),
      createUser(app),
    ]);
    const mensaje = `aviso ${staffA.id}`;
    const { body } = await send({ staff: true, mensaje }).expect(201);
    expect(body.created).toBe(body.ids.length);
    // Other test files add staff users too: assert on ours only.
    const owners = await ownersOf(body.ids);
    expect(owners).toEqual(expect.arrayContaining([staff.id, staffA.id, staffB.id]));
    expect(owners).not.toContain(inactiveStaff.id);
    expect(owners).not.toContain(plain.id);
    expect(new Set(owners).size).toBe(owners.length);
    expect(await mensajesOf(staffA)).toEqual([mensaje]);
    expect(await countFor([inactiveStaff, plain])).toBe(0);
  });

  it('notificarStaff with no active staff user creates nothing', async () => {
    // Over HTTP the caller is always an active staff user, so "no active staff" can only be
    // reached in-process: deactivate every staff user inside a transaction that rolls back.
    const service = app.app.get(NotificationsService);
    const runner = app.dataSource.createQueryRunner();
    await runner.connect();
    await runner.startTransaction();
    try {
      await runner.query('UPDATE users SET is_active = false WHERE is_staff AND is_active');
      expect(await service.notificarStaff('nadie', { manager: runner.manager })).toEqual([]);
    } finally {
      await runner.rollbackTransaction();
      await runner.release();
    }
  });

  describe('all or nothing', () => {
    it('an unknown user id is a 400 naming it, and nothing is stored for the others', async () => {
      const valid = await createUser(app);
      const unknown = 2_000_000_000;
      const { body } = await send({ usuarios: [valid.id, unknown], mensaje: 'hola' }).expect(400);
      expect(body).toEqual({
        statusCode: 400,
        message: expect.stringContaining(String(unknown)),
        error: 'Bad Request',
      });
      expect(await countFor([valid])).toBe(0);
    });

    it('an inactive user is a 400 naming every bad id, and nothing is stored', async () => {
      const [valid, inactive] = await Promise.all([
        createUser(app),
        createUser(app, { active: false }),
      ]);
      const unknown = 2_000_000_001;
      const { body } = await send({
        usuarios: [inactive.id, valid.id, unknown],
        mensaje: 'hola',
      }).expect(400);
      expect(body).toMatchObject({ statusCode: 400, error: 'Bad Request' });
      expect(body.message).toContain(String(inactive.id));
      expect(body.message).toContain(String(unknown));
      expect(body.message).not.toContain(String(valid.id));
      expect(await countFor([valid, inactive])).toBe(0);
    });

    it('sends nothing live for a refused request', async () => {
      const valid = await createUser(app);
      const socket = await connectSocket(app.url, { token: signToken(valid) });
      try {
        const first = nextEvent(socket, 'notificacion_mensaje');
        await send({ usuarios: [valid.id, 2_000_000_002], mensaje: 'rechazado' }).expect(400);
        await send({ usuarios: [valid.id], mensaje: 'aceptado' }).expect(201);
        // Events arrive in order: had the refused one been emitted, it would come first.
        expect((await first).message).toBe('aceptado');
      } finally {
        socket.close();
      }
    });
  });

  describe('usuarios bounds', () => {
    it('accepts the largest valid body: 10,000 users, one per indented line, and a mensaje of 10,000 code points as \\u escapes', async () => {
      const rows = await app.dataSource.query<Array<{ id: number }>>(
        `INSERT INTO users (username)
         SELECT 'bulk-' || gen_random_uuid() FROM generate_series(1, 10000)
         RETURNING id`,
      );
      const usuarios = rows.map((row) => row.id);
      // Every id written as 10 digits (leading whitespace instead of digits keeps the numbers).
      const lines = usuarios.map((id) => String(id).padStart(10, ' '));
      const escaped = '\\ud83d\\ude00'.repeat(10_000);
      const payload = `{\n    "usuarios": [\n${lines.map((id) => `      ${id}`).join(',\n')}\n    ],\n    "mensaje": "${escaped}"\n}`;
      expect(Buffer.byteLength(payload)).toBeGreaterThan(250_000);
      expect(Buffer.byteLength(payload)).toBeLessThan(SEND_BODY_LIMIT);
      const { body } = await request(app.url)
        .post(SEND)
        .set(bearer(signToken(staff)))
        .set('Content-Type', 'application/json')
        .send(payload)
        .expect(201);
      expect(body.created).toBe(10_000);
      expect(await ownersOf(body.ids)).toEqual(usuarios);
      const [stored] = await app.dataSource.query<Array<{ mensaje: string }>>(
        'SELECT mensaje FROM notificaciones WHERE id = $1',
        [body.ids[0]],
      );
      expect(stored.mensaje).toBe('😀'.repeat(10_000));
    }, 30_000);

    it('rejects 10,001 users with 400', async () => {
      const user = await createUser(app);
      const usuarios = [user.id, ...Array.from({ length: 10_000 }, (_, i) => 1_000_000_000 + i)];
      const { body } = await send({ usuarios, mensaje: 'demasiados' }).expect(400);
      expect(body).toMatchObject({ statusCode: 400, error: 'Bad Request' });
      expect(await countFor([user])).toBe(0);
    });
  });

  describe('mensaje', () => {
    let user: User;
    beforeAll(async () => {
      user = await createUser(app);
    });

    it.each([
      ['10,000 ASCII characters', 'a'.repeat(10_000)],
      // 20,000 UTF-16 units but 10,000 code points, which is what PostgreSQL counts.
      ['10,000 emoji', '😀'.repeat(10_000)],
      ['10,000 code points of mixed text', '😀é'.repeat(2_500) + 'ñ𝄞'.repeat(2_500)],
      ['one character', 'x'],
    ])('accepts %s and stores it unchanged', async (_name, mensaje) => {
      const { body } = await send({ usuarios: [user.id], mensaje }).expect(201);
      const [stored] = await app.dataSource.query<Array<{ mensaje: string }>>(
        'SELECT mensaje FROM notificaciones WHERE id = $1',
        [body.ids[0]],
      );
      expect(stored.mensaje).toBe(mensaje);
    });

    it.each<[string, unknown]>([
      ['empty', ''],
      ['10,001 ASCII characters', 'a'.repeat(10_001)],
      ['10,001 emoji', '😀'.repeat(10_001)],
      ['10,000 emoji and one more', '😀'.repeat(10_000) + 'a'],
      ['a NUL character', 'hola\u0000mundo'],
      // Valid JSON ("\ud83d") but not text: stored, it would silently become U+FFFD.
      ['a lone surrogate', 'hola \ud83d'],
      ['a number', 42],
      ['null', null],
      ['an array', ['hola']],
    ])('rejects %s with 400 in Nest shape (never 500)', async (_name, mensaje) => {
      const target = await createUser(app);
      const { body } = await send({ usuarios: [target.id], mensaje }).expect(400);
      expect(body).toEqual({
        statusCode: 400,
        message: expect.arrayContaining([expect.stringMatching(/mensaje/)]),
        error: 'Bad Request',
      });
      expect(await countFor([target])).toBe(0);
    });

    it('rejects NUL for staff sends too', async () => {
      await send({ staff: true, mensaje: '\u0000' }).expect(400);
    });
  });

  it.each<[string, (id: number) => unknown]>([
    ['both usuarios and staff', (id) => ({ usuarios: [id], staff: true, mensaje: 'hola' })],
    ['staff false', () => ({ staff: false, mensaje: 'hola' })],
    ['staff as a string', () => ({ staff: 'true', mensaje: 'hola' })],
    ['staff 1', () => ({ staff: 1, mensaje: 'hola' })],
    ['staff null (before: sent to every staff user)', () => ({ staff: null, mensaje: 'hola' })],
    ['staff null beside usuarios', (id) => ({ usuarios: [id], staff: null, mensaje: 'hola' })],
    ['usuarios null', () => ({ usuarios: null, mensaje: 'hola' })],
    ['usuarios null beside staff', () => ({ usuarios: null, staff: true, mensaje: 'hola' })],
    ['mensaje null', (id) => ({ usuarios: [id], mensaje: null })],
    ['an object among usuarios', (id) => ({ usuarios: [id, { id }], mensaje: 'hola' })],
    ['usuarios nested', (id) => ({ usuarios: [[id]], mensaje: 'hola' })],
    ['mensaje as an object', (id) => ({ usuarios: [id], mensaje: { es: 'hola' } })],
    ['no audience', () => ({ mensaje: 'hola' })],
    ['no mensaje', (id) => ({ usuarios: [id] })],
    ['usuarios not an array', (id) => ({ usuarios: id, mensaje: 'hola' })],
    ['a zero id', (id) => ({ usuarios: [id, 0], mensaje: 'hola' })],
    ['a negative id', (id) => ({ usuarios: [id, -1], mensaje: 'hola' })],
    ['a fractional id', (id) => ({ usuarios: [id, 1.5], mensaje: 'hola' })],
    ['a string id', (id) => ({ usuarios: [String(id)], mensaje: 'hola' })],
    ['an id past the integer column', (id) => ({ usuarios: [id, 2 ** 31], mensaje: 'hola' })],
    ['an unknown field', (id) => ({ usuarios: [id], mensaje: 'hola', urgente: true })],
  ])('rejects %s with 400 in Nest shape', async (_name, payload) => {
    const target = await createUser(app);
    const { body } = await send(payload(target.id)).expect(400);
    expect(body).toEqual({ statusCode: 400, message: expect.anything(), error: 'Bad Request' });
    expect(await countFor([target])).toBe(0);
  });

  it('rejects malformed JSON with 400 in Nest shape', async () => {
    const { body } = await request(app.url)
      .post(SEND)
      .set(bearer(signToken(staff)))
      .set('Content-Type', 'application/json')
      .send('{"usuarios": [1], "mensaje": ')
      .expect(400);
    expect(body).toEqual({ statusCode: 400, message: expect.any(String), error: 'Bad Request' });
  });

  it('rejects a body that is not valid UTF-8 with 400, storing nothing', async () => {
    const target = await createUser(app);
    // Decoded as it came, 0xFF 0xFE would be stored as two U+FFFD in place of what was sent.
    const payload = Buffer.concat([
      Buffer.from(`{"usuarios":[${target.id}],"mensaje":"`),
      Buffer.from([0xff, 0xfe]),
      Buffer.from('"}'),
    ]);
    // fetch sends the bytes as they are (supertest would serialise a Buffer as JSON).
    const response = await fetch(`${app.url}${SEND}`, {
      method: 'POST',
      headers: { ...bearer(signToken(staff)), 'Content-Type': 'application/json; charset=utf-8' },
      body: payload,
    });
    expect(response.status).toBe(400);
    expect(await response.json()).toEqual({
      statusCode: 400,
      message: 'body is not valid UTF-8',
      error: 'Bad Request',
    });
    expect(await countFor([target])).toBe(0);
  });

  it('refuses a body one byte over its limit with 413 in Nest shape', async () => {
    const target = await createUser(app);
    const json = JSON.stringify({ usuarios: [target.id], mensaje: 'hola' });
    const payload = json.slice(0, -1) + ' '.repeat(SEND_BODY_LIMIT + 1 - json.length) + '}';
    expect(Buffer.byteLength(payload)).toBe(SEND_BODY_LIMIT + 1);
    const { body } = await request(app.url)
      .post(SEND)
      .set(bearer(signToken(staff)))
      .set('Content-Type', 'application/json')
      .send(payload)
      .expect(413);
    expect(body).toEqual({
      statusCode: 413,
      message: expect.any(String),
      error: 'Payload Too Large',
    });
    expect(await countFor([target])).toBe(0);
    // Exactly the limit is read (and sent).
    await request(app.url)
      .post(SEND)
      .set(bearer(signToken(staff)))
      .set('Content-Type', 'application/json')
      .send(payload.replace('  }', ' }'))
      .expect(201);
    expect(await countFor([target])).toBe(1);
  });

  it('refuses 30,000 unknown keys with 400 at once (seconds of event loop before)', async () => {
    const payload =
      '{"staff":true,"mensaje":"todos"' +
      Array.from({ length: 30_000 }, (_, i) => `,"k${i}":1`).join('') +
      '}';
    const started = Date.now();
    const { body } = await request(app.url)
      .post(SEND)
      .set(bearer(signToken(staff)))
      .set('Content-Type', 'application/json')
      .send(payload)
      .expect(400);
    expect(Date.now() - started).toBeLessThan(2000);
    expect(body.message).toMatch(/more than 1000 keys/);
  });
});

import request from 'supertest';
import { IdempotencyService } from '../src/idempotency/idempotency.service';
import { User } from '../src/users/user.entity';
import { useApp } from './support/app';
import { createUser } from './support/fixtures';
import { waitFor } from './support/wait';
import { bearer, signToken } from './support/tokens';

const SEND = '/notifications/api/send/';

describe('Idempotency-Key on POST /notifications/api/send/', () => {
  const app = useApp();
  let staff: User;
  beforeAll(async () => {
    staff = await createUser(app, { staff: true });
  });

  function send(body: object, key?: string, sender: User = staff) {
    let call = request(app.url)
      .post(SEND)
      .set(bearer(signToken(sender)));
    if (key !== undefined) call = call.set('Idempotency-Key', key);
    return call.send(body);
  }

  async function countFor(users: User[]): Promise<number[]> {
    const rows = await app.dataSource.query<Array<{ count: number }>>(
      `SELECT (SELECT count(*)::int FROM notificaciones WHERE usuario_id = u) AS count
       FROM unnest($1::int[]) WITH ORDINALITY AS t(u, ord) ORDER BY ord`,
      [users.map((user) => user.id)],
    );
    return rows.map((row) => row.count);
  }

  const uniqueKey = () => `key-${Math.random().toString(36).slice(2)}`;

  it('a repeat answers the first response again and creates nothing', async () => {
    const [a, b] = [await createUser(app), await createUser(app)];
    const body = { usuarios: [a.id, b.id], mensaje: 'una vez', tipo: 'pedido' };
    const key = uniqueKey();
    const first = await send(body, key).expect(201);
    const again = await send(body, key).expect(201);
    expect(again.body).toStrictEqual(first.body);
    // The same bytes, too: a client may compare or hash the raw answer.
    expect(again.text).toBe(first.text);
    expect(await countFor([a, b])).toEqual([1, 1]);
    // Without the key, the same body is a new send.
    await send(body).expect(201);
    expect(await countFor([a, b])).toEqual([2, 2]);
  });

  it('the same key with a different body is 422, and creates nothing', async () => {
    const user = await createUser(app);
    const key = uniqueKey();
    await send({ usuarios: [user.id], mensaje: 'uno' }, key).expect(201);
    const { body } = await send({ usuarios: [user.id], mensaje: 'otro' }, key).expect(422);
    expect(body).toMatchObject({ statusCode: 422, error: 'Unprocessable Entity' });
    expect(await countFor([user])).toEqual([1]);
  });

  it('keys are per sender: another sender’s same key is its own', async () => {
    const user = await createUser(app);
    const other = await createUser(app, { staff: true });
    const key = uniqueKey();
    const body = { usuarios: [user.id], mensaje: 'hola' };
    const first = await send(body, key).expect(201);
    const second = await send(body, key, other).expect(201);
    expect(second.body.ids).not.toEqual(first.body.ids);
    expect(await countFor([user])).toEqual([2]);
  });

  it('50 concurrent requests with one key: one notification per recipient, the rest 409 or the replay', async () => {
    const users = [await createUser(app), await createUser(app), await createUser(app)];
    const body = { usuarios: users.map((user) => user.id), mensaje: 'a la vez' };
    const key = uniqueKey();
    const responses = await Promise.all(Array.from({ length: 50 }, () => send(body, key)));
    const created = responses.filter((response) => response.status === 201);
    expect(created.length).toBeGreaterThanOrEqual(1);
    for (const response of responses) expect([201, 409]).toContain(response.status);
    for (const response of created) expect(response.body).toStrictEqual(created[0].body);
    expect(await countFor(users)).toEqual([1, 1, 1]);
    // Once it is done, every repeat replays it.
    expect((await send(body, key).expect(201)).body).toStrictEqual(created[0].body);
  });

  it('a repeat while the first still runs is 409 at once, without waiting for it', async () => {
    const user = await createUser(app);
    const key = uniqueKey();
    const body = { usuarios: [user.id], mensaje: 'held' };
    // The first send's INSERT waits for this lock on its recipient (its foreign key check).
    const holder = app.dataSource.createQueryRunner();
    await holder.connect();
    await holder.startTransaction();
    try {
      await holder.query('SELECT 1 FROM users WHERE id = $1 FOR UPDATE', [user.id]);
      const first = send(body, key).then((response) => response);
      await waitFor('the first send to hold its key', async () => {
        const rows = await app.dataSource.query<unknown[]>(
          `SELECT 1 FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
           WHERE NOT l.granted AND a.query LIKE '%INSERT INTO notificaciones%'`,
        );
        return rows.length > 0;
      });
      // Each repeat answers while the first is still blocked: none waits for its lock.
      const repeats = await Promise.all(Array.from({ length: 5 }, () => send(body, key)));
      expect(repeats.map((response) => response.status)).toEqual([409, 409, 409, 409, 409]);
      await holder.commitTransaction();
      expect((await first).status).toBe(201);
    } finally {
      if (holder.isTransactionActive) await holder.rollbackTransaction();
      await holder.release();
    }
    expect(await countFor([user])).toEqual([1]);
  });

  it('a request that failed stored nothing: its key runs again', async () => {
    const user = await createUser(app);
    const key = uniqueKey();
    await send({ usuarios: [user.id, 2_000_000_000], mensaje: 'x' }, key).expect(400);
    await send({ usuarios: [user.id], mensaje: 'x' }, key).expect(201);
    expect(await countFor([user])).toEqual([1]);
  });

  it('after 24 hours a key is new again, and the purge removes it', async () => {
    const user = await createUser(app);
    const key = uniqueKey();
    const body = { usuarios: [user.id], mensaje: 'ayer' };
    await send(body, key).expect(201);
    await app.dataSource.query(
      `UPDATE claves_idempotencia SET creada = now() - interval '25 hours'
       WHERE emisor_id = $1 AND clave = $2`,
      [staff.id, key],
    );
    expect(await app.app.get(IdempotencyService).purgeExpired()).toBeGreaterThanOrEqual(1);
    const [{ count }] = await app.dataSource.query<Array<{ count: number }>>(
      'SELECT count(*)::int AS count FROM claves_idempotencia WHERE clave = $1',
      [key],
    );
    expect(count).toBe(0);
    await send(body, key).expect(201);
    expect(await countFor([user])).toEqual([2]);
  });

  it.each<[string, string]>([
    ['empty', ''],
    ['201 characters', 'k'.repeat(201)],
    ['not ASCII', 'clave-ñ'],
  ])('refuses a key %s with 400, creating nothing', async (_name, key) => {
    const user = await createUser(app);
    const { body } = await send({ usuarios: [user.id], mensaje: 'x' }, key).expect(400);
    expect(body).toMatchObject({ statusCode: 400, error: 'Bad Request' });
    expect(await countFor([user])).toEqual([0]);
  });

  it('takes 200 printable ASCII characters', async () => {
    const user = await createUser(app);
    await send({ usuarios: [user.id], mensaje: 'x' }, ' ~'.repeat(100)).expect(201);
  });
});

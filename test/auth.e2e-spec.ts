import jwt from 'jsonwebtoken';
import { createHmac, generateKeyPairSync } from 'node:crypto';
import request from 'supertest';
import { User } from '../src/users/user.entity';
import { startApp, TestApp } from './support/app';
import { createUser, insertNotifications } from './support/fixtures';
import { bearer, signToken } from './support/tokens';

/** A token built by hand, so that claims and headers a real signer refuses can be sent. */
function handMadeToken(
  header: Record<string, unknown>,
  payload: Record<string, unknown>,
  secret: string | undefined = process.env.JWT_SECRET,
): string {
  const encode = (part: object) => Buffer.from(JSON.stringify(part)).toString('base64url');
  const unsigned = `${encode(header)}.${encode(payload)}`;
  const signature =
    secret === undefined ? '' : createHmac('sha256', secret).update(unsigned).digest('base64url');
  return `${unsigned}.${signature}`;
}

const HS256 = { alg: 'HS256', typ: 'JWT' };
const inAnHour = () => Math.floor(Date.now() / 1000) + 3600;

interface Route {
  name: string;
  method: 'get' | 'post';
  path: string;
  body?: (user: User) => object;
  success: number;
}

const ROUTES: Route[] = [
  { name: 'list', method: 'get', path: '/notifications/api/list/', success: 200 },
  {
    name: 'mark-read',
    method: 'post',
    path: '/notifications/api/mark-read/',
    body: () => ({ ids: [] }),
    success: 200,
  },
  {
    name: 'send',
    method: 'post',
    path: '/notifications/api/send/',
    body: (user) => ({ usuarios: [user.id], mensaje: 'hola' }),
    success: 201,
  },
];

describe('authentication on every HTTP route', () => {
  let app: TestApp;
  // Staff and active: whatever a request is refused for, it is the token.
  let user: User;
  let inactive: User;
  let deleted: User;
  let rsaKey: string;
  beforeAll(async () => {
    app = await startApp();
    [user, inactive, deleted] = await Promise.all([
      createUser(app, { staff: true }),
      createUser(app, { staff: true, active: false }),
      createUser(app, { staff: true }),
    ]);
    await app.dataSource.query('DELETE FROM users WHERE id = $1', [deleted.id]);
    rsaKey = generateKeyPairSync('rsa', { modulusLength: 2048 })
      .privateKey.export({ type: 'pkcs8', format: 'pem' })
      .toString();
  });
  afterAll(() => app.close());

  function call(route: Route, authorization: string | undefined) {
    const base =
      route.method === 'get'
        ? request(app.url).get(route.path)
        : request(app.url)
            .post(route.path)
            .send(route.body?.(user) ?? {});
    return authorization === undefined ? base : base.set('Authorization', authorization);
  }

  const refused: Array<[string, () => string | undefined]> = [
    ['no Authorization header', () => undefined],
    ['an empty Authorization header', () => ''],
    ['"Bearer" without a token', () => 'Bearer '],
    ['a token without the Bearer scheme', () => signToken(user)],
    ['the Basic scheme', () => `Basic ${Buffer.from('user:pass').toString('base64')}`],
    ['two tokens', () => `Bearer ${signToken(user)} ${signToken(user)}`],
    ['a token that is not a JWT', () => 'Bearer not-a-jwt'],
    ['a wrong signature', () => `Bearer ${signToken(user, { secret: 'not-the-secret' })}`],
    [
      'a payload swapped under a valid signature',
      () => {
        const [header, , signature] = signToken(user).split('.');
        const payload = Buffer.from(
          JSON.stringify({ sub: String(inactive.id), exp: inAnHour() }),
        ).toString('base64url');
        return `Bearer ${header}.${payload}.${signature}`;
      },
    ],
    [
      'alg none',
      () =>
        `Bearer ${handMadeToken({ alg: 'none', typ: 'JWT' }, { sub: String(user.id), exp: inAnHour() }, undefined)}`,
    ],
    [
      'alg none with the HS256 signature kept',
      () => {
        const [, payload, signature] = signToken(user).split('.');
        const header = Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT' })).toString(
          'base64url',
        );
        return `Bearer ${header}.${payload}.${signature}`;
      },
    ],
    ['HS512', () => `Bearer ${signToken(user, { algorithm: 'HS512' })}`],
    ['HS384', () => `Bearer ${signToken(user, { algorithm: 'HS384' })}`],
    [
      'RS256',
      () =>
        `Bearer ${jwt.sign({ sub: String(user.id) }, rsaKey, { algorithm: 'RS256', expiresIn: 3600 })}`,
    ],
    ['an expired exp', () => `Bearer ${signToken(user, { expiresIn: -60 })}`],
    ['no exp', () => `Bearer ${signToken(user, { noExp: true })}`],
    [
      'exp as a string',
      () => `Bearer ${handMadeToken(HS256, { sub: String(user.id), exp: String(inAnHour()) })}`,
    ],
    [
      // RFC 7515 §4.1.11: critical extensions the service does not understand (it knows none).
      'a crit header',
      () =>
        `Bearer ${handMadeToken({ ...HS256, crit: ['b64'], b64: true }, { sub: String(user.id), exp: inAnHour() })}`,
    ],
    [
      'an empty crit header',
      () =>
        `Bearer ${handMadeToken({ ...HS256, crit: [] }, { sub: String(user.id), exp: inAnHour() })}`,
    ],
    ['a non-numeric sub', () => `Bearer ${signToken('abc')}`],
    ['a fractional sub', () => `Bearer ${signToken(`${user.id}.5`)}`],
    ['sub 0', () => `Bearer ${signToken(0)}`],
    ['a negative sub', () => `Bearer ${signToken(-user.id)}`],
    ['a sub past the integer column', () => `Bearer ${signToken('99999999999')}`],
    ['no sub', () => `Bearer ${handMadeToken(HS256, { exp: inAnHour() })}`],
    ['an unknown user', () => `Bearer ${signToken(2_000_000_000)}`],
    ['a deleted user', () => `Bearer ${signToken(deleted)}`],
    ['an inactive user', () => `Bearer ${signToken(inactive)}`],
  ];

  describe.each(ROUTES)('$name', (route) => {
    it.each(refused)('answers 401 in Nest shape for %s', async (_name, authorization) => {
      const { body } = await call(route, authorization()).expect(401);
      expect(body).toEqual({
        statusCode: 401,
        message: expect.any(String),
        error: 'Unauthorized',
      });
    });

    it.each<[string, () => string]>([
      ['sub as a string', () => `Bearer ${signToken(String(user.id))}`],
      ['sub as a number', () => `Bearer ${signToken(user.id)}`],
      // The hand-made signer is the one the refusals above use: it must be able to succeed.
      [
        'a hand-made HS256 token',
        () => `Bearer ${handMadeToken(HS256, { sub: String(user.id), exp: inAnHour() })}`,
      ],
      ['a lowercase scheme', () => `bearer ${signToken(user)}`],
    ])('accepts %s', async (_name, authorization) => {
      await call(route, authorization()).expect(route.success);
    });
  });

  it('refuses a token once its user is deactivated', async () => {
    const soon = await createUser(app);
    const token = signToken(soon);
    await call(ROUTES[0], `Bearer ${token}`).expect(200);
    await app.dataSource.query('UPDATE users SET is_active = false WHERE id = $1', [soon.id]);
    await call(ROUTES[0], `Bearer ${token}`).expect(401);
  });

  it('refuses a token it accepted before, once its exp has passed', async () => {
    const token = signToken(user, { expiresIn: 2 });
    await call(ROUTES[0], `Bearer ${token}`).expect(200);
    // exp is in whole seconds: wait until it is surely behind us.
    await new Promise((resolve) => setTimeout(resolve, 3_100));
    await call(ROUTES[0], `Bearer ${token}`).expect(401);
  });

  it('answers concurrent requests of many users each as its own user', async () => {
    // Lookups made together share a query: each request must still get its own user's answer.
    const users = await Promise.all(
      Array.from({ length: 30 }, (_, i) => createUser(app, { active: i % 3 !== 0 })),
    );
    await Promise.all(
      users.map((each) => insertNotifications(app, each, [{ mensaje: `de ${each.id}` }])),
    );
    const responses = await Promise.all(
      [...users, ...users].map((each) =>
        request(app.url)
          .get('/notifications/api/list/')
          .set(bearer(signToken(each))),
      ),
    );
    responses.forEach((response, index) => {
      const each = users[index % users.length];
      if (!each.isActive) {
        expect(response.status).toBe(401);
        return;
      }
      expect(response.status).toBe(200);
      expect(
        (response.body as { notifications: Array<{ mensaje: string }> }).notifications,
      ).toEqual([expect.objectContaining({ mensaje: `de ${each.id}` })]);
    });
  });
});

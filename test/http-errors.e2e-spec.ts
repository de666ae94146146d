import request from 'supertest';
import { User } from '../src/users/user.entity';
import { startApp, TestApp } from './support/app';
import { createUser } from './support/fixtures';
import { databaseUrlThrough, TcpProxy } from './support/tcp-proxy';
import { bearer, signToken } from './support/tokens';

/** The app reaches PostgreSQL through a proxy, so a test can take the database away from it. */
describe('HTTP error answers and health', () => {
  let proxy: TcpProxy;
  let app: TestApp;
  beforeAll(async () => {
    proxy = await TcpProxy.toTestDatabase();
    app = await startApp({ DATABASE_URL: databaseUrlThrough(proxy) });
  });
  afterAll(async () => {
    await app?.close();
    await proxy?.close();
  });

  it.each([
    ['get', '/nope'],
    ['get', '/notifications/api/nope/'],
    ['get', '/notifications/api/send/'],
    ['post', '/notifications/api/list/'],
    ['delete', '/notifications/api/mark-read/'],
  ] as const)(
    'answers %s %s with 404 in Nest shape, before any authentication',
    async (method, path) => {
      const client = request(app.url);
      const { body } = await client[method](path).expect(404);
      expect(body).toEqual({
        statusCode: 404,
        message: expect.any(String),
        error: 'Not Found',
      });
    },
  );

  it.each([
    ['post', '/notifications/api/mark-read/', { ids: [] }],
    ['post', '/notifications/api/mark-unread/', { ids: [1] }],
    ['post', '/notifications/api/delete/', { ids: [1] }],
    ['post', '/notifications/api/send/', { usuarios: [1], mensaje: 'hola' }],
    ['get', '/notifications/api/unread-count/', undefined],
    ['get', '/notifications/api/preferences/', undefined],
    ['put', '/notifications/api/preferences/', { silenciados: [] }],
    [
      'put',
      '/notifications/api/users/987654/',
      { username: 'q', is_staff: false, is_active: true },
    ],
  ] as const)(
    'refuses a query parameter %s %s does not take, given once or twice: 400',
    async (method, path, body) => {
      const staff = await createUser(app, { staff: true });
      for (const query of ['?x=1', '?x=1&x=2']) {
        const client = request(app.url);
        const call = client[method](path + query).set(bearer(signToken(staff)));
        const { body: answer } = await (body === undefined ? call : call.send(body)).expect(400);
        expect(answer).toEqual({
          statusCode: 400,
          message: ['unknown parameter x'],
          error: 'Bad Request',
        });
      }
    },
  );

  it('GET /health answers 200 while the database answers', async () => {
    const { body } = await request(app.url).get('/health').expect(200);
    expect(body).toMatchObject({ status: 'ok', info: { database: { status: 'up' } } });
  });

  describe('with the database unreachable', () => {
    let user: User;
    beforeAll(async () => {
      user = await createUser(app);
    });
    afterEach(() => proxy.restore());

    it('answers 503 in Nest shape on every route and on /health, then recovers', async () => {
      await request(app.url).get('/health').expect(200);
      proxy.cut();

      const health = await request(app.url).get('/health').expect(503);
      expect(health.body).toMatchObject({ status: 'error' });
      const calls = [
        request(app.url).get('/notifications/api/list/'),
        request(app.url).post('/notifications/api/mark-read/').send({ ids: [] }),
        request(app.url)
          .post('/notifications/api/send/')
          .send({ usuarios: [user.id], mensaje: 'hola' }),
      ];
      for (const call of calls) {
        const { body } = await call.set(bearer(signToken(user))).expect(503);
        expect(body).toEqual({
          statusCode: 503,
          message: expect.any(String),
          error: 'Service Unavailable',
        });
      }

      proxy.restore();
      await request(app.url).get('/health').expect(200);
      await request(app.url)
        .get('/notifications/api/list/')
        .set(bearer(signToken(user)))
        .expect(200);
    });
  });
});

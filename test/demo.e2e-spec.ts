import { ForbiddenException } from '@nestjs/common';
import request from 'supertest';
import { DemoService } from '../src/demo/demo.service';
import { bearer, createUser, startApp, TestApp } from './factories';

const production = {
  NODE_ENV: 'production',
  JWT_SECRET: process.env.JWT_SECRET,
  DATABASE_URL: process.env.DATABASE_URL,
  LOG_LEVEL: 'silent',
};

/** A 404 exactly like any unknown path: the route is not there at all. */
async function expectAbsent(app: TestApp, method: 'get' | 'post', path: string): Promise<void> {
  const agent = request(app.url);
  const response = method === 'get' ? await agent.get(path) : await agent.post(path).send({});
  expect({ path, status: response.status, error: response.body.error }).toEqual({
    path,
    status: 404,
    error: 'Not Found',
  });
}

describe('demo inbox', () => {
  describe('in production', () => {
    let app: TestApp;
    beforeAll(async () => {
      app = await startApp(production);
    });
    afterAll(() => app.close());

    it('serves neither the page nor any demo route', async () => {
      await expectAbsent(app, 'get', '/');
      await expectAbsent(app, 'get', '/demo/inbox.js');
      await expectAbsent(app, 'get', '/demo/users');
      await expectAbsent(app, 'post', '/demo/token');
    });
  });

  describe('in production with DEMO_ENABLED=true', () => {
    let app: TestApp;
    beforeAll(async () => {
      app = await startApp({ ...production, DEMO_ENABLED: 'true' });
    });
    afterAll(() => app.close());

    it('serves the page, which then asks for a token', async () => {
      const page = await request(app.url).get('/').expect(200).expect('Content-Type', /html/);
      expect(page.text).toContain('id="token-form"');
      await request(app.url)
        .get('/demo/inbox.js')
        .expect(200)
        .expect('Content-Type', /javascript/);
    });

    it('still mints no token, by route or by service', async () => {
      const demoUser = await createUser(app, { username: `demo-prod-${Date.now()}` });
      await expectAbsent(app, 'get', '/demo/users');
      const minted = await request(app.url).post('/demo/token').send({ user_id: demoUser.id });
      expect(minted.status).toBe(404);
      expect(minted.body.token).toBeUndefined();
      await expect(app.app.get(DemoService).mint(demoUser.id)).rejects.toBeInstanceOf(
        ForbiddenException,
      );
    });
  });

  describe('in development', () => {
    let app: TestApp;
    beforeAll(async () => {
      app = await startApp({ NODE_ENV: 'development', LOG_LEVEL: 'silent' });
    });
    afterAll(() => app.close());

    it('serves the page and the socket.io-client bundle it loads', async () => {
      const page = await request(app.url).get('/').expect(200).expect('Content-Type', /html/);
      const scripts = [...page.text.matchAll(/<script src="([^"]+)"/g)].map((match) => match[1]);
      expect(scripts).toEqual(['/ws/notificaciones/socket.io.min.js', '/demo/inbox.js']);
      for (const script of scripts) {
        await request(app.url)
          .get(script)
          .expect(200)
          .expect('Content-Type', /javascript/);
      }
    });

    it('lists demo users, staff included, and mints tokens the API accepts', async () => {
      const listed = await request(app.url).get('/demo/users').expect(200);
      const users = listed.body.users as Array<{ id: number; username: string; is_staff: boolean }>;
      expect(users.every((user) => user.username.startsWith('demo-'))).toBe(true);
      expect(users.some((user) => user.is_staff)).toBe(true);

      const minted = await request(app.url)
        .post('/demo/token')
        .send({ user_id: users[0].id })
        .expect(200);
      expect(minted.body).toMatchObject({ user: users[0], expires_in: expect.any(Number) });
      await request(app.url)
        .get('/notifications/api/list/')
        .set(bearer(minted.body.token))
        .expect(200);
    });

    it('mints only for demo users, and rejects bad input with 400', async () => {
      const other = await createUser(app);
      const refused = await request(app.url).post('/demo/token').send({ user_id: other.id });
      expect(refused.status).toBe(404);
      expect(refused.body.token).toBeUndefined();
      for (const body of [{}, { user_id: 'x' }, { user_id: -1 }, { user_id: 1.5 }]) {
        const response = await request(app.url).post('/demo/token').send(body);
        expect({ body, status: response.status }).toEqual({ body, status: 400 });
        expect(response.body).toMatchObject({ statusCode: 400, error: 'Bad Request' });
      }
    });
  });
});

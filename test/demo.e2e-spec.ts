import { execFile } from 'node:child_process';
import { ForbiddenException } from '@nestjs/common';
import request from 'supertest';
import { DemoService } from '../src/demo/demo.service';
import { startApp, TestApp } from './support/app';
import { createUser } from './support/fixtures';
import { bearer } from './support/tokens';
import { listeningAddresses, nonLoopbackIPv4 } from './support/network';
import { MAIN_JS, ServiceProcess } from './support/service-process';

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
      await expectAbsent(app, 'get', '/favicon.ico');
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

    it('serves an icon where browsers ask for one', async () => {
      const icon = await request(app.url)
        .get('/favicon.ico')
        .buffer(true)
        .parse((response, done) => {
          const chunks: Buffer[] = [];
          response.on('data', (chunk: Buffer) => chunks.push(chunk));
          response.on('end', () => done(null, Buffer.concat(chunks)));
        })
        .expect(200)
        .expect('Content-Type', 'image/x-icon');
      // An ICO header: reserved 0, type 1 (icon), at least one image.
      expect((icon.body as Buffer).subarray(0, 4)).toEqual(Buffer.from([0, 0, 1, 0]));
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

    // A page from elsewhere whose name was made to resolve to 127.0.0.1 (DNS rebinding) runs in
    // a local browser: its requests come from loopback, but name that page's host.
    it('refuses a loopback request that names another host, or comes from another origin', async () => {
      const { port } = new URL(app.url);
      const [first] = (await request(app.url).get('/demo/users').expect(200)).body.users as Array<{
        id: number;
      }>;
      const cases: Array<Record<string, string>> = [
        { Host: `attacker.example:${port}` },
        { Host: `attacker.example:${port}`, Origin: `http://attacker.example:${port}` },
        { Host: `127.0.0.1:${port}`, Origin: `http://attacker.example:${port}` },
        { Host: `127.0.0.1.attacker.example:${port}` },
      ];
      for (const headers of cases) {
        const users = await request(app.url).get('/demo/users').set(headers);
        const token = await request(app.url)
          .post('/demo/token')
          .set(headers)
          .send({ user_id: first.id });
        for (const refused of [users, token]) {
          expect({ headers, status: refused.status }).toEqual({ headers, status: 403 });
          expect(refused.body.token).toBeUndefined();
        }
      }
      // This machine by any of its names, from its own pages.
      for (const name of ['localhost', '127.0.0.1', 'demo.localhost', '[::1]']) {
        const headers = { Host: `${name}:${port}`, Origin: `http://${name}:${port}` };
        await request(app.url).get('/demo/users').set(headers).expect(200);
        await request(app.url)
          .post('/demo/token')
          .set(headers)
          .send({ user_id: first.id })
          .expect(200);
      }
    });

    it('mints only for demo users, and rejects bad input with 400', async () => {
      const other = await createUser(app);
      const refused = await request(app.url).post('/demo/token').send({ user_id: other.id });
      expect(refused.status).toBe(404);
      expect(refused.body.token).toBeUndefined();
      const bad = [
        {},
        { user_id: 'x' },
        { user_id: -1 },
        { user_id: 1.5 },
        { user_id: '1' },
        // Past PostgreSQL's integer: no user has such an id.
        { user_id: 2_147_483_648 },
        { user_id: Number.MAX_SAFE_INTEGER },
      ];
      // Validated as every DTO is: an unknown key is refused, not ignored.
      for (const body of [...bad, { user_id: other.id, admin: true }, [{ user_id: other.id }]]) {
        const response = await request(app.url).post('/demo/token').send(body);
        expect({ body, status: response.status }).toEqual({ body, status: 400 });
        expect(response.body).toMatchObject({ statusCode: 400, error: 'Bad Request' });
      }
    });
  });
});

describe('demo routes on the network (service processes)', () => {
  const lan = nonLoopbackIPv4();
  const database = { DATABASE_URL: process.env.DATABASE_URL, JWT_SECRET: process.env.JWT_SECRET };
  // Headers a client sets to pass for someone else; a proxy's word is never taken for it here.
  const spoofed = {
    'X-Forwarded-For': '127.0.0.1',
    'X-Real-IP': '127.0.0.1',
    Forwarded: 'for=127.0.0.1',
  };

  beforeAll(() => {
    if (!lan) {
      process.stdout.write(
        'demo routes: this machine has no non-loopback IPv4 address; the cases played from the network are skipped\n',
      );
    }
  });
  afterAll(() => ServiceProcess.disposeAll());

  async function call(
    url: string,
    method: 'GET' | 'POST',
    body?: object,
    headers: Record<string, string> = {},
  ): Promise<{ status: number; body: Record<string, unknown> }> {
    const response = await fetch(url, {
      method,
      headers: { 'Content-Type': 'application/json', ...headers },
      body: body && JSON.stringify(body),
    });
    const text = await response.text();
    return { status: response.status, body: text.startsWith('{') ? JSON.parse(text) : {} };
  }

  it('listens on loopback only by default in development', async () => {
    const service = await ServiceProcess.start({
      ...database,
      NODE_ENV: 'development',
      HOST: undefined,
    });
    const bound = listeningAddresses(service.port);
    if (bound) expect(bound).toEqual(['127.0.0.1']);
    if (lan) {
      await expect(fetch(`http://${lan}:${service.port}/health`)).rejects.toThrow();
    }
    await service.dispose();
  });

  (lan ? it : it.skip)(
    'answers demo users and tokens to this machine only, whatever X-Forwarded-For says',
    async () => {
      const service = await ServiceProcess.start({
        ...database,
        NODE_ENV: 'development',
        HOST: '0.0.0.0',
      });
      const local = service.url;
      const remote = `http://${lan}:${service.port}`;

      const listed = await call(`${local}/demo/users`, 'GET');
      expect(listed.status).toBe(200);
      const [first] = listed.body.users as Array<{ id: number }>;
      expect((await call(`${local}/demo/token`, 'POST', { user_id: first.id })).status).toBe(200);

      // Relayed by a proxy on this machine (nginx in front of a development server): the peer
      // is loopback, the client is not.
      for (const header of ['X-Forwarded-For', 'X-Real-IP', 'Forwarded', 'Via']) {
        const relayed = { [header]: header === 'Forwarded' ? 'for=8.8.8.8' : '8.8.8.8' };
        expect((await call(`${local}/demo/users`, 'GET', undefined, relayed)).status).toBe(403);
        expect(
          (await call(`${local}/demo/token`, 'POST', { user_id: first.id }, relayed)).status,
        ).toBe(403);
      }

      for (const headers of [{}, spoofed]) {
        const users = await call(`${remote}/demo/users`, 'GET', undefined, headers);
        const token = await call(`${remote}/demo/token`, 'POST', { user_id: first.id }, headers);
        for (const refused of [users, token]) {
          expect(refused).toEqual({
            status: 403,
            body: { statusCode: 403, message: expect.any(String), error: 'Forbidden' },
          });
        }
      }
      // The page itself is no secret: it falls back to asking for a token.
      expect((await fetch(`${remote}/`)).status).toBe(200);
      await service.dispose();
    },
  );

  it('stops with one line naming HOST and PORT when it cannot listen there', async () => {
    // 192.0.2.0/24 is reserved for documentation: no machine has it.
    const result = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
      execFile(
        process.execPath,
        [MAIN_JS],
        {
          env: {
            ...process.env,
            ...database,
            NODE_ENV: 'development',
            HOST: '192.0.2.77',
            PORT: '0',
          },
        },
        (_error, _stdout, stderr) =>
          resolve({ code: _error?.code === undefined ? 0 : Number(_error.code), stderr }),
      );
    });
    expect(result.code).toBe(1);
    const lines = result.stderr.trim().split('\n');
    expect(lines.at(-1)).toMatch(
      /^Configuration error: cannot listen on HOST=192\.0\.2\.77 PORT=0: /,
    );
  });

  it('listens on every interface in production, without any token route', async () => {
    const service = await ServiceProcess.start({
      ...database,
      NODE_ENV: 'production',
      DEMO_ENABLED: 'true',
      HOST: undefined,
    });
    const bound = listeningAddresses(service.port);
    if (bound) expect(bound).toEqual([expect.stringMatching(/^(::|0\.0\.0\.0)$/)]);
    for (const base of [service.url, ...(lan ? [`http://${lan}:${service.port}`] : [])]) {
      expect((await call(`${base}/demo/users`, 'GET')).status).toBe(404);
      expect((await call(`${base}/demo/token`, 'POST', { user_id: 1 })).status).toBe(404);
      expect((await fetch(`${base}/`)).status).toBe(200);
    }
    await service.dispose();
  });
});

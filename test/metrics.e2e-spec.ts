import request from 'supertest';
import { startApp, TestApp } from './support/app';
import { createUser } from './support/fixtures';
import { ClientSocket, connectSocket } from './support/socket-client';
import { bearer, signToken } from './support/tokens';
import { outboxDrained } from './support/delivery';
import { waitFor } from './support/wait';

/** The value of one sample (`name{labels} value`) in a Prometheus text exposition. */
function sample(
  text: string,
  name: string,
  labels: Record<string, string> = {},
): number | undefined {
  for (const line of text.split('\n')) {
    const match = /^([a-zA-Z_:][\w:]*)(\{.*\})? (\S+)$/.exec(line);
    if (!match || match[1] !== name) continue;
    const found = Object.fromEntries(
      [...(match[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((pair) => [
        pair[1],
        pair[2],
      ]),
    );
    if (Object.entries(labels).every(([key, value]) => found[key] === value)) {
      return Number(match[3]);
    }
  }
  return undefined;
}

describe('metrics', () => {
  let app: TestApp;
  const scrape = async (): Promise<string> => {
    const response = await request(app.url).get('/metrics').expect(200);
    expect(response.headers['content-type']).toMatch(/^text\/plain/);
    return response.text;
  };

  beforeAll(async () => {
    app = await startApp();
  });
  afterAll(() => app.close());

  it('counts notifications created and the emits that carried them', async () => {
    const staff = await createUser(app, { staff: true });
    const users = [await createUser(app), await createUser(app)];
    // This app leads delivery on the run's shared database: it first pushes (and counts) what
    // earlier test files left in the outbox. Count from a quiet state.
    await outboxDrained(app.dataSource);
    const before = await scrape();
    const created = sample(before, 'notificaciones_created_total') ?? 0;
    const emits =
      sample(before, 'notificaciones_emits_total', { event: 'notificacion_mensaje' }) ?? 0;

    await request(app.url)
      .post('/notifications/api/send/')
      .set(bearer(signToken(staff)))
      .send({
        usuarios: users.map((user) => user.id),
        mensaje: 'Stock bajo: quedan 2 kg de tomate',
      })
      .expect(201);
    // The delivery leader emits once the send committed.
    await outboxDrained(app.dataSource);

    const after = await scrape();
    expect(sample(after, 'notificaciones_created_total')).toBe(created + 2);
    expect(sample(after, 'notificaciones_emits_total', { event: 'notificacion_mensaje' })).toBe(
      emits + 2,
    );
  });

  it('counts unread_count emits after a mark-read', async () => {
    const user = await createUser(app);
    const count = async () =>
      sample(await scrape(), 'notificaciones_emits_total', { event: 'unread_count' }) ?? 0;
    await outboxDrained(app.dataSource);
    const before = await count();
    await request(app.url)
      .post('/notifications/api/mark-read/')
      .set(bearer(signToken(user)))
      .send({ ids: [] })
      .expect(200);
    await outboxDrained(app.dataSource);
    expect(await count()).toBe(before + 1);
  });

  it('gauges connected sockets', async () => {
    const gauge = async () => sample(await scrape(), 'notificaciones_connected_sockets');
    const before = (await gauge())!;
    const socket: ClientSocket = await connectSocket(app.url, {
      token: signToken(await createUser(app)),
    });
    try {
      expect(await gauge()).toBe(before + 1);
    } finally {
      const closed = new Promise<void>((resolve) => socket.once('disconnect', () => resolve()));
      socket.close();
      await closed;
    }
    // The server sees the close a moment after the client does: wait for the gauge to follow.
    await waitFor('the gauge to drop back', async () => (await gauge()) === before);
  });

  it('keeps an HTTP latency histogram by route template, not raw URL', async () => {
    const token = signToken(await createUser(app));
    await request(app.url).get('/notifications/api/list/?limit=3').set(bearer(token)).expect(200);
    await request(app.url).get('/no/such/route/12345').expect(404);
    const text = await scrape();
    const labels = { method: 'GET', route: '/notifications/api/list', status_code: '200' };
    expect(sample(text, 'http_request_duration_seconds_count', labels)).toBeGreaterThanOrEqual(1);
    expect(
      sample(text, 'http_request_duration_seconds_bucket', { ...labels, le: '+Inf' }),
    ).toBeGreaterThanOrEqual(1);
    // In label values, that is: a sample's value may hold any digits (a lag of 0.012345 s).
    const labelText = [...text.matchAll(/\{([^}]*)\}/g)].map((match) => match[1]).join('\n');
    expect(labelText).toContain('route="/notifications/api/list"');
    expect(labelText).not.toContain('limit=3');
    expect(labelText).not.toContain('12345');
    expect(
      sample(text, 'http_request_duration_seconds_count', {
        route: 'unmatched',
        status_code: '404',
      }),
    ).toBeGreaterThanOrEqual(1);
  });

  it('measures requests the body parser rejects', async () => {
    await request(app.url)
      .post('/notifications/api/mark-read/')
      // Validly signed: without such a token the body is never read, and the answer is 401.
      .set(bearer(signToken(1)))
      .set('Content-Type', 'application/json')
      .send('{"ids": [1,')
      .expect(400);
    const text = await scrape();
    expect(
      sample(text, 'http_request_duration_seconds_count', { method: 'POST', status_code: '400' }),
    ).toBeGreaterThanOrEqual(1);
  });

  it('reports the database pool and the process', async () => {
    const text = await scrape();
    const total = sample(text, 'db_pool_connections')!;
    const idle = sample(text, 'db_pool_idle_connections')!;
    expect(total).toBeGreaterThanOrEqual(1);
    expect(idle).toBeLessThanOrEqual(total);
    expect(sample(text, 'db_pool_waiting_clients')).toBe(0);
    expect(sample(text, 'db_pool_max_connections')).toBeGreaterThanOrEqual(total);
    expect(sample(text, 'process_cpu_user_seconds_total')).toBeGreaterThan(0);
    expect(sample(text, 'nodejs_eventloop_lag_seconds')).toBeDefined();
  });
});

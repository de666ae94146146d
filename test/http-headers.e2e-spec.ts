import { connect } from 'node:net';
import request from 'supertest';
import { startApp, useApp } from './support/app';
import { createUser } from './support/fixtures';
import { bearer, signToken } from './support/tokens';

/** Sends raw bytes and resolves with everything the server wrote before it closed. */
function rawExchange(url: string, bytes: string): Promise<string> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname);
    let received = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => (received += chunk));
    socket.on('error', reject);
    socket.on('close', () => resolve(received));
    socket.setTimeout(5_000, () => socket.destroy(new Error('no answer within 5 s')));
    socket.write(bytes);
  });
}

function parse(raw: string): { status: number; headers: string; body: unknown } {
  const [head, body] = raw.split('\r\n\r\n');
  return { status: Number(head.split(' ')[1]), headers: head, body: JSON.parse(body) };
}

describe('HTTP response headers and parser errors', () => {
  const app = useApp();

  it('marks every API response no-store: success, bad input, no token, unknown route', async () => {
    const token = signToken(await createUser(app));
    const responses = await Promise.all([
      request(app.url).get('/notifications/api/list/').set(bearer(token)),
      request(app.url).get('/notifications/api/list/?limit=0').set(bearer(token)),
      request(app.url).get('/notifications/api/list/'),
      request(app.url)
        .post('/notifications/api/mark-read/')
        .set(bearer(token))
        .set('Content-Type', 'application/json')
        .send('{"ids": ['),
      request(app.url).get('/notifications/api/nothing-here/').set(bearer(token)),
      request(app.url).get('/NOTIFICATIONS/API/list/').set(bearer(token)),
    ]);
    expect(
      responses.map((response) => [response.status, response.headers['cache-control']]),
    ).toEqual([
      [200, 'no-store'],
      [400, 'no-store'],
      [401, 'no-store'],
      [400, 'no-store'],
      [404, 'no-store'],
      [200, 'no-store'],
    ]);
  });

  it('answers headers over the limit with 431 in Nest error shape', async () => {
    const raw = await rawExchange(
      app.url,
      `GET /notifications/api/list/ HTTP/1.1\r\nHost: x\r\nX-Padding: ${'a'.repeat(20_000)}\r\n\r\n`,
    );
    const response = parse(raw);
    expect(response.status).toBe(431);
    expect(response.headers).toMatch(/^Content-Type: application\/json/im);
    expect(response.headers).toMatch(/^Cache-Control: no-store/im);
    expect(response.body).toEqual({
      statusCode: 431,
      message: expect.any(String),
      error: 'Request Header Fields Too Large',
    });
  });

  it('answers a request the parser cannot read with 400 in Nest error shape', async () => {
    const response = parse(await rawExchange(app.url, 'NOT HTTP AT ALL\r\n\r\n'));
    expect(response.status).toBe(400);
    expect(response.body).toEqual({
      statusCode: 400,
      message: expect.any(String),
      error: 'Bad Request',
    });
  });

  it('still serves the next connection normally', async () => {
    await rawExchange(app.url, `GET / HTTP/1.1\r\nX-Padding: ${'a'.repeat(20_000)}\r\n\r\n`);
    await request(app.url).get('/health').expect(200);
  });

  describe('CORS', () => {
    it('allows only the origins in CORS_ORIGINS', async () => {
      const cors = await startApp(
        { CORS_ORIGINS: 'https://app.example.com,http://localhost:5173' },
        // This file's app leads delivery; this one only answers HTTP.
        { lead: 'later' },
      );
      try {
        const allowed = await request(cors.url)
          .options('/notifications/api/list/')
          .set('Origin', 'https://app.example.com')
          .set('Access-Control-Request-Method', 'GET')
          .set('Access-Control-Request-Headers', 'authorization');
        expect(allowed.status).toBeLessThan(300);
        expect(allowed.headers['access-control-allow-origin']).toBe('https://app.example.com');
        expect(allowed.headers['access-control-allow-headers']).toMatch(/authorization/i);

        const other = await request(cors.url)
          .get('/health')
          .set('Origin', 'https://evil.example.com')
          .expect(200);
        expect(other.headers['access-control-allow-origin']).toBeUndefined();
      } finally {
        await cors.close();
      }
    });

    it('allows no cross-origin caller when CORS_ORIGINS is unset', async () => {
      const response = await request(app.url)
        .get('/health')
        .set('Origin', 'https://app.example.com')
        .expect(200);
      expect(response.headers['access-control-allow-origin']).toBeUndefined();
    });
  });
});

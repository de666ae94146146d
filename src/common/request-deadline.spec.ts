import express from 'express';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { requestDeadline } from './request-deadline';

/** An Express app with the deadline mounted, on port 0, and a way to stop it. */
async function serve(app: express.Express): Promise<{ url: string; close: () => Promise<void> }> {
  const server: Server = await new Promise((resolve) => {
    const listening = app.listen(0, '127.0.0.1', () => resolve(listening));
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

describe('requestDeadline', () => {
  afterEach(() => jest.restoreAllMocks());

  it('answers 503 with Retry-After when the route is late, and drops its answer', async () => {
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    let lateAnswer: Promise<string> | undefined;
    const app = express();
    app.use(requestDeadline(20));
    app.get('/slow', (_request, response) => {
      lateAnswer = released.then(() => {
        try {
          // What Nest and a late guard would do once the work ends.
          response.setHeader('X-Late', 'yes');
          response.status(200).json({ late: true });
          return 'dropped';
        } catch (error) {
          return `threw ${(error as Error).message}`;
        }
      });
    });
    const server = await serve(app);
    try {
      const answer = await fetch(`${server.url}/slow`);
      expect(answer.status).toBe(503);
      expect(answer.headers.get('retry-after')).toBe('5');
      expect(await answer.json()).toEqual({
        statusCode: 503,
        message: 'database unavailable, try again shortly',
        error: 'Service Unavailable',
      });
      release();
      expect(await lateAnswer).toBe('dropped');
    } finally {
      await server.close();
    }
  });

  it('lets a route that answers in time answer, and stops its timer', async () => {
    const armed: unknown[] = [];
    const set = globalThis.setTimeout;
    jest.spyOn(globalThis, 'setTimeout').mockImplementation(((callback: () => void, ms: number) => {
      const timer = set(callback, ms);
      if (ms === 60_000) armed.push(timer);
      return timer;
    }) as typeof setTimeout);
    const cleared = jest.spyOn(globalThis, 'clearTimeout');
    const app = express();
    app.use(requestDeadline(60_000));
    app.get('/fast', (_request, response) => {
      response.json({ fast: true });
    });
    const server = await serve(app);
    try {
      const answer = await fetch(`${server.url}/fast`);
      expect(answer.status).toBe(200);
      expect(await answer.json()).toEqual({ fast: true });
    } finally {
      await server.close();
    }
    // The server closed once the response did: its timer is gone, nothing holds the request.
    expect(armed).toHaveLength(1);
    expect(cleared).toHaveBeenCalledWith(armed[0]);
  });
});

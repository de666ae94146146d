import { ChildProcess, spawn, spawnSync } from 'node:child_process';
import { createConnection } from 'node:net';
import { freePort } from '../../src/common/free-port';
import { waitFor } from './wait';

const BINARY = 'redis-server';

/** True when a `redis-server` binary is on the PATH (tests that need one skip otherwise). */
export function redisServerAvailable(): boolean {
  return spawnSync(BINARY, ['--version'], { stdio: 'ignore' }).status === 0;
}

function answersPing(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: '127.0.0.1', port });
    let reply = '';
    socket.setTimeout(500, () => socket.destroy());
    socket.on('connect', () => socket.write('PING\r\n'));
    socket.on('data', (chunk) => {
      reply += chunk.toString();
      if (reply.includes('\r\n')) {
        socket.end();
        resolve(reply.startsWith('+PONG'));
      }
    });
    socket.on('error', () => resolve(false));
    socket.on('close', () => resolve(false));
  });
}

const running = new Set<ChildProcess>();
// A test that fails half-way must not leave a server behind.
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

/**
 * A Redis of the test's own on a free loopback port, with no persistence, that the test can
 * kill and start again on the same port (the machine's shared Redis is never touched).
 */
export class RedisServer {
  private child?: ChildProcess;

  private constructor(readonly port: number) {}

  /** A server on a free port; not started until `start()`. */
  static async onFreePort(): Promise<RedisServer> {
    return new RedisServer(await freePort());
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  get isRunning(): boolean {
    return this.child !== undefined;
  }

  /** Starts the server and resolves once it answers PING. */
  async start(): Promise<void> {
    if (this.child) return;
    const child = spawn(
      BINARY,
      [
        '--port',
        String(this.port),
        '--bind',
        '127.0.0.1',
        '--save',
        '',
        '--appendonly',
        'no',
        '--protected-mode',
        'no',
      ],
      { stdio: 'ignore' },
    );
    this.child = child;
    running.add(child);
    let exited = false;
    child.once('exit', () => {
      exited = true;
      running.delete(child);
    });
    await waitFor(`redis-server on port ${this.port}`, async () => {
      if (exited) throw new Error('redis-server exited during start-up');
      return answersPing(this.port);
    });
  }

  /** Kills the server outright (a crash, not a shutdown) and resolves once it is gone. */
  async kill(): Promise<void> {
    const child = this.child;
    if (!child) return;
    this.child = undefined;
    if (child.exitCode === null && child.signalCode === null) {
      const gone = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGKILL');
      await gone;
    }
    running.delete(child);
  }
}

/**
 * A Redis for the test file: a redis-server of its own, started in `beforeAll` and killed in
 * `afterAll`, so multi-instance tests run wherever redis-server is installed, whether or not
 * REDIS_URL is set; where it is not installed, the Redis TEST_REDIS_URL names (empty if none:
 * see `redisAvailable`). `url` is known once `beforeAll` has run. Call it at the top level of
 * the file: jest runs `afterAll` hooks in the order they are declared, so the apps the file's
 * describes start are closed before their Redis goes away.
 */
export function useRedis(): { readonly url: string } {
  const handle = { url: process.env.TEST_REDIS_URL ?? '' };
  let server: RedisServer | undefined;
  beforeAll(async () => {
    if (!redisServerAvailable()) return;
    server = await RedisServer.onFreePort();
    await server.start();
    handle.url = server.url;
  });
  afterAll(async () => {
    await server?.kill();
  });
  return handle;
}

/** Whether `useRedis` has a Redis to give: tests that need one skip only when it has none. */
export const redisAvailable = redisServerAvailable() || Boolean(process.env.TEST_REDIS_URL);

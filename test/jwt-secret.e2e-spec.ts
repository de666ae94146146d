import { spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import request from 'supertest';
import { bearer, createUser, signToken } from './factories';
import { openTestDatabase } from './support/database';
import { assertBuilt, ServiceProcess } from './support/service-process';

const JWT_SECRET_JS = resolve(__dirname, '..', 'dist', 'src', 'auth', 'jwt-secret.js');

/**
 * Starts `count` processes that each wait for the same instant, then resolve the development
 * key in `dataDir`; resolves with what each printed (its key) or its error.
 */
function resolveAtOnce(dataDir: string, count: number): Promise<string[]> {
  const at = Date.now() + 400;
  const script = `
    const { resolveJwtSecret } = require(${JSON.stringify(JWT_SECRET_JS)});
    while (Date.now() < ${at}) {}
    try { process.stdout.write(resolveJwtSecret({ jwtSecret: undefined, dataDir: ${JSON.stringify(dataDir)} })); }
    catch (error) { process.stdout.write('error: ' + error.message); }`;
  return Promise.all(
    Array.from(
      { length: count },
      () =>
        new Promise<string>((done, fail) => {
          const child = spawn(process.execPath, ['-e', script], {
            stdio: ['ignore', 'pipe', 'inherit'],
          });
          let output = '';
          child.stdout.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
          child.on('error', fail);
          child.on('close', () => done(output));
        }),
    ),
  );
}

describe('the development JWT key on first start', () => {
  const folders: string[] = [];
  function folder(): string {
    const path = mkdtempSync(join(tmpdir(), 'notificaciones-key-'));
    // The service may start an embedded PostgreSQL as another user under it.
    chmodSync(path, 0o755);
    folders.push(path);
    return path;
  }

  beforeAll(() => assertBuilt());
  afterAll(async () => {
    await ServiceProcess.disposeAll();
    for (const path of folders) rmSync(path, { recursive: true, force: true });
  });

  it('is one key for two services started at once in the same folder', async () => {
    const cwd = folder();
    // No JWT_SECRET: each generates or reads the key under ./.data/.
    const env = { DATABASE_URL: process.env.DATABASE_URL, JWT_SECRET: undefined };
    const services = await Promise.all([
      ServiceProcess.start(env, { cwd }),
      ServiceProcess.start(env, { cwd }),
    ]);
    const key = readFileSync(join(cwd, '.data', 'jwt-secret'), 'utf8').trim();
    expect(key.length).toBeGreaterThanOrEqual(32);

    const database = await openTestDatabase();
    try {
      const token = signToken(await createUser(database), { secret: key });
      for (const service of services) {
        await request(service.url).get('/notifications/api/list/').set(bearer(token)).expect(200);
      }
    } finally {
      await database.destroy();
    }
  }, 60_000);

  it('is one key, whole, however many processes race to create it', async () => {
    for (let round = 0; round < 8; round += 1) {
      const dataDir = join(folder(), '.data');
      const keys = await resolveAtOnce(dataDir, 6);
      const stored = readFileSync(join(dataDir, 'jwt-secret'), 'utf8');
      expect({ round, keys }).toEqual({ round, keys: keys.map(() => stored) });
      expect(stored).toMatch(/^[A-Za-z0-9_-]{43}$/);
    }
  }, 60_000);
});

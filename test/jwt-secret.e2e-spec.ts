import { spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import request from 'supertest';
import { openTestDatabase } from './support/database';
import { createUser } from './support/fixtures';
import { bearer, signToken } from './support/tokens';
import { assertBuilt, ServiceProcess } from './support/service-process';

const JWT_SECRET_JS = resolve(__dirname, '..', 'dist', 'src', 'auth', 'jwt-secret.js');

/**
 * Starts `count` processes that resolve the development key in each of `dataDirs`, all of them
 * at the same instant for each folder (one 20 ms slot per folder, so one start-up pays for many
 * races). Resolves with, per process, what it got in each folder: the key or the error.
 */
function resolveAtOnce(dataDirs: string[], count: number): Promise<string[][]> {
  const at = Date.now() + 500;
  const script = `
    const { resolveJwtSecret } = require(${JSON.stringify(JWT_SECRET_JS)});
    const got = ${JSON.stringify(dataDirs)}.map((dataDir, slot) => {
      while (Date.now() < ${at} + slot * 20) {}
      try { return resolveJwtSecret({ jwtSecret: undefined, dataDir }); }
      catch (error) { return 'error: ' + error.message; }
    });
    process.stdout.write(JSON.stringify(got));`;
  return Promise.all(
    Array.from(
      { length: count },
      () =>
        new Promise<string[]>((done, fail) => {
          const child = spawn(process.execPath, ['-e', script], {
            stdio: ['ignore', 'pipe', 'inherit'],
          });
          let output = '';
          child.stdout.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
          child.on('error', fail);
          child.on('close', () => done(JSON.parse(output) as string[]));
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
    const dataDirs = Array.from({ length: 40 }, () => join(folder(), '.data'));
    const got = await resolveAtOnce(dataDirs, 6);
    dataDirs.forEach((dataDir, slot) => {
      const stored = readFileSync(join(dataDir, 'jwt-secret'), 'utf8');
      expect(stored).toMatch(/^[A-Za-z0-9_-]{43}$/);
      const keys = got.map((each) => each[slot]);
      expect({ slot, keys }).toEqual({ slot, keys: keys.map(() => stored) });
    });
  }, 60_000);
});

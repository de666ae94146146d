import jwt from 'jsonwebtoken';
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { Client } from 'pg';
import request from 'supertest';
import { NotificationsService } from '../src/notifications/notifications.service';
import { User } from '../src/users/user.entity';
import { startApp, TestApp } from './support/app';
import { backdate, createUser, existing } from './support/fixtures';
import { ANCIENT_DAYS, withPurgeLock } from './support/purge-lock';
import { closeSockets, openSocket } from './support/socket-client';
import { bearer, signToken } from './support/tokens';

// Each command boots a Nest context in a child process: seconds, not milliseconds.
jest.setTimeout(60_000);

const ROOT = join(__dirname, '..');
/** The compiled CLI: `npm test` builds first (pretest). */
const CLI = join(ROOT, 'dist', 'src', 'cli.js');
const JWT_SHAPE = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;

interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs the CLI as `npm run -s cli` would, against the test database, with only the
 * environment it needs (no REDIS_URL unless given).
 */
function cli(args: string[], env: Record<string, string | undefined> = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], {
      cwd: ROOT,
      env: {
        PATH: process.env.PATH,
        DATABASE_URL: process.env.DATABASE_URL,
        JWT_SECRET: process.env.JWT_SECRET,
        ...env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`cli ${args.join(' ')} did not finish in time; stderr: ${stderr}`));
    }, 20_000);
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/**
 * The single line a successful command printed on stdout; fails on anything else there (logs
 * and warnings belong on stderr, which is shown when the command failed).
 */
function onlyLine(result: CliResult): string {
  expect({ code: result.code, stderr: result.code === 0 ? '' : result.stderr }).toEqual({
    code: 0,
    stderr: '',
  });
  expect(result.stdout).toMatch(/^[^\n]+\n$/);
  return result.stdout.slice(0, -1);
}

/** A failed command: non-zero exit, nothing on stdout, a reason on stderr. */
function expectFailure(result: CliResult): void {
  expect(result.code).not.toBe(0);
  expect(result.code).not.toBeNull();
  expect(result.stdout).toBe('');
  expect(result.stderr.trim().length).toBeGreaterThan(0);
}

function decode(token: string): { header: Record<string, unknown>; payload: jwt.JwtPayload } {
  const decoded = jwt.decode(token, { complete: true });
  if (!decoded || typeof decoded.payload === 'string') throw new Error('not a JWT');
  return { header: decoded.header as unknown as Record<string, unknown>, payload: decoded.payload };
}

function uniqueName(): string {
  return `cli-${randomUUID().slice(0, 12)}`;
}

describe('command line', () => {
  let app: TestApp;

  beforeAll(async () => {
    app = await startApp();
  });
  afterEach(() => closeSockets());
  afterAll(() => app.close());

  describe('user:create', () => {
    it('creates an active user and prints exactly its JSON', async () => {
      const username = uniqueName();
      const line = onlyLine(await cli(['user:create', username]));
      const user = await app.dataSource.getRepository(User).findOneByOrFail({ username });
      expect(line).toBe(JSON.stringify({ id: user.id, username, is_staff: false }));
      expect(user).toMatchObject({ isStaff: false, isActive: true });
    });

    it('creates a staff user with --staff, who may send', async () => {
      const username = uniqueName();
      const printed = JSON.parse(onlyLine(await cli(['user:create', username, '--staff'])));
      expect(printed).toStrictEqual({ id: expect.any(Number), username, is_staff: true });
      const user = await app.dataSource.getRepository(User).findOneByOrFail({ id: printed.id });
      expect(user).toMatchObject({ username, isStaff: true, isActive: true });
      await request(app.url)
        .post('/notifications/api/send/')
        .set(bearer(signToken(user)))
        .send({ usuarios: [user.id], mensaje: 'from a CLI-made staff user' })
        .expect(201);
    });

    it('refuses a username that is taken', async () => {
      const existingUser = await createUser(app);
      const result = await cli(['user:create', existingUser.username]);
      expectFailure(result);
      expect(result.stderr).toContain(existingUser.username);
      expect(
        await app.dataSource.getRepository(User).countBy({ username: existingUser.username }),
      ).toBe(1);
    });

    it('refuses a username the API would refuse, creating nothing', async () => {
      for (const [username, why] of [
        ['', 'username must be 1..150 characters'],
        ['   ', 'username must not start or end with spaces'],
        ['x'.repeat(151), 'username must be 1..150 characters'],
      ]) {
        const result = await cli(['user:create', username]);
        expectFailure(result);
        expect(result.stderr).toContain(why);
        expect(await app.dataSource.getRepository(User).countBy({ username })).toBe(0);
      }
    });

    it('needs exactly one username', async () => {
      const result = await cli(['user:create']);
      expectFailure(result);
      expect(result.stderr).toMatch(/usage/i);
    });
  });

  describe('token', () => {
    it('prints a bare HS256 JWT for the user that the HTTP API accepts', async () => {
      const user = await createUser(app);
      const token = onlyLine(await cli(['token', user.username]));
      expect(token).toMatch(JWT_SHAPE);
      const { header, payload } = decode(token);
      expect(header.alg).toBe('HS256');
      expect(payload.sub).toBe(String(user.id));
      expect(payload.exp! - payload.iat!).toBe(3600);
      expect(() =>
        jwt.verify(token, process.env.JWT_SECRET!, { algorithms: ['HS256'] }),
      ).not.toThrow();
      const list = await request(app.url)
        .get('/notifications/api/list/')
        .set(bearer(token))
        .expect(200);
      expect(list.body).toMatchObject({ notifications: [], unread_count: 0 });
      // And the socket accepts it.
      const tab = await openSocket(app.url, { token });
      await expect(tab.waitFor('unread_count')).resolves.toStrictEqual({ unread_count: 0 });
    });

    it('sets exp from --ttl', async () => {
      const user = await createUser(app);
      const token = onlyLine(await cli(['token', user.username, '--ttl', '120']));
      const { payload } = decode(token);
      expect(payload.exp! - payload.iat!).toBe(120);
      await request(app.url).get('/notifications/api/list/').set(bearer(token)).expect(200);
    });

    it('fails for an unknown user', async () => {
      const result = await cli(['token', uniqueName()]);
      expectFailure(result);
    });

    it('rejects a --ttl that is not a positive whole number', async () => {
      const user = await createUser(app);
      const results = await Promise.all(
        ['abc', '0', '1.5'].map((ttl) => cli(['token', user.username, '--ttl', ttl])),
      );
      for (const result of results) {
        expectFailure(result);
        expect(result.stderr).toMatch(/ttl/);
      }
    });
  });

  describe('notify', () => {
    it('stores a notification, prints it and the HTTP list shows it', async () => {
      const user = await createUser(app);
      const words = ['Pedido', '#42', 'listo', '—', '¡ñandú!', '🍕'];
      const mensaje = words.join(' ');
      const printed = JSON.parse(onlyLine(await cli(['notify', user.username, ...words])));
      expect(printed).toStrictEqual({
        id: expect.any(Number),
        usuario: user.id,
        mensaje,
        leida: false,
        fecha: expect.stringMatching(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/),
        tipo: 'general',
        url: null,
        datos: null,
      });
      const list = await request(app.url)
        .get('/notifications/api/list/')
        .set(bearer(signToken(user)))
        .expect(200);
      expect(list.body.notifications).toEqual([
        {
          id: printed.id,
          mensaje,
          leida: false,
          fecha: printed.fecha,
          tipo: 'general',
          url: null,
          datos: null,
        },
      ]);
      expect(list.body.unread_count).toBe(1);
    });

    it('keeps a mensaje given as one quoted argument as is', async () => {
      const user = await createUser(app);
      const mensaje = 'dos  espacios y "comillas"';
      const printed = JSON.parse(onlyLine(await cli(['notify', user.username, mensaje])));
      expect(printed.mensaje).toBe(mensaje);
    });

    it('takes --tipo and --url, and refuses ones the contract does not allow', async () => {
      const user = await createUser(app);
      const printed = JSON.parse(
        onlyLine(
          await cli([
            'notify',
            user.username,
            'Stock',
            'bajo',
            '--tipo',
            'stock',
            '--url',
            '/stock/7',
          ]),
        ),
      );
      expect(printed).toMatchObject({ mensaje: 'Stock bajo', tipo: 'stock', url: '/stock/7' });
      const [badTipo, badUrl] = await Promise.all([
        cli(['notify', user.username, 'hola', '--tipo', 'Not A Kind']),
        cli(['notify', user.username, 'hola', '--url', 'javascript:alert(1)']),
      ]);
      expectFailure(badTipo);
      expect(badTipo.stderr).toMatch(/tipo/);
      expectFailure(badUrl);
      expect(badUrl.stderr).toMatch(/url/);
      const [{ count }] = await app.dataSource.query<Array<{ count: number }>>(
        'SELECT count(*)::int AS count FROM notificaciones WHERE usuario_id = $1',
        [user.id],
      );
      expect(count).toBe(1);
    });

    it('fails for an unknown user, a missing mensaje or an empty one', async () => {
      const user = await createUser(app);
      const [unknown, missing, empty] = await Promise.all([
        cli(['notify', uniqueName(), 'hola']),
        cli(['notify', user.username]),
        cli(['notify', user.username, '']),
      ]);
      expectFailure(unknown);
      expectFailure(missing);
      expect(missing.stderr).toMatch(/usage/i);
      expectFailure(empty);
      expect(empty.stderr).toMatch(/mensaje/);
      const [{ count }] = await app.dataSource.query<Array<{ count: number }>>(
        'SELECT count(*)::int AS count FROM notificaciones WHERE usuario_id = $1',
        [user.id],
      );
      expect(count).toBe(0);
    });

    it('is delivered live by the server on the same database (the CLI only rings it)', async () => {
      const user = await createUser(app);
      const tab = await openSocket(app.url, { token: signToken(user) });
      await tab.waitFor('unread_count');
      const mensaje = `live from the CLI ${randomUUID()}`;
      const printed = JSON.parse(onlyLine(await cli(['notify', user.username, mensaje])));
      const message = await tab.waitFor(
        'notificacion_mensaje',
        (event) => event.notificacion.id === printed.id && event.message === mensaje,
      );
      expect(message).toStrictEqual({
        type: 'notificacion_mensaje',
        message: mensaje,
        notificacion: {
          id: printed.id,
          mensaje,
          leida: false,
          fecha: printed.fecha,
          tipo: 'general',
          url: null,
          datos: null,
        },
      });
      closeSockets();
    });
  });

  describe('purge', () => {
    async function oldAndNew(): Promise<number[]> {
      const user = await createUser(app);
      const service = app.app.get(NotificationsService);
      const ids: number[] = [];
      for (const mensaje of ['ancient', 'old', 'recent', 'fresh']) {
        ids.push((await service.notificarUsuario(user, mensaje)).id);
      }
      return ids;
    }

    it('deletes notifications older than --days N and prints {"deleted":n}', async () => {
      const ids = await oldAndNew();
      await withPurgeLock(app.dataSource, async () => {
        await backdate(app.dataSource, [ids[0]], ANCIENT_DAYS + 10);
        await backdate(app.dataSource, [ids[1]], ANCIENT_DAYS + 1);
        await backdate(app.dataSource, [ids[2]], ANCIENT_DAYS - 1);
        expect(onlyLine(await cli(['purge', '--days', String(ANCIENT_DAYS)]))).toBe(
          JSON.stringify({ deleted: 2 }),
        );
      });
      expect(await existing(app.dataSource, ids)).toEqual([ids[2], ids[3]]);
    });

    it('defaults to RETENTION_DAYS', async () => {
      const ids = await oldAndNew();
      await withPurgeLock(app.dataSource, async () => {
        await backdate(app.dataSource, [ids[0]], ANCIENT_DAYS + 1);
        expect(onlyLine(await cli(['purge'], { RETENTION_DAYS: String(ANCIENT_DAYS) }))).toBe(
          JSON.stringify({ deleted: 1 }),
        );
      });
      expect(await existing(app.dataSource, ids)).toEqual(ids.slice(1));
    });

    it('with RETENTION_DAYS=0 deletes nothing and says purging is off', async () => {
      const ids = await oldAndNew();
      await withPurgeLock(app.dataSource, async () => {
        // Old and new alike: a purge "older than 0 days" would take every one of them.
        await backdate(app.dataSource, ids.slice(0, 2), ANCIENT_DAYS + 1);
        const result = await cli(['purge'], { RETENTION_DAYS: '0' });
        expect(result.code).toBe(0);
        expect(JSON.parse(result.stdout)).toEqual({ deleted: 0, purging: 'off' });
        expect(result.stderr).toMatch(/purging is off \(RETENTION_DAYS=0\)/);
        expect(await existing(app.dataSource, ids)).toEqual(ids);
        // Old rows left behind would be counted by the next purge test.
        await app.dataSource.query('DELETE FROM notificaciones WHERE id = ANY($1)', [ids]);
      });
    });

    it('refuses --days 0 instead of deleting everything', async () => {
      const ids = await oldAndNew();
      const result = await cli(['purge', '--days', '0'], { RETENTION_DAYS: '0' });
      expectFailure(result);
      expect(result.stderr).toMatch(/--days must be a whole number from 1/);
      expect(await existing(app.dataSource, ids)).toEqual(ids);
    });

    it('rejects a --days that is not a whole number', async () => {
      const results = await Promise.all(
        ['abc', '-1', '1.5', '99999999999'].map((days) => cli(['purge', '--days', days])),
      );
      for (const result of results) {
        expectFailure(result);
        expect(result.stderr).toMatch(/days/);
      }
    });
  });

  describe('migrate', () => {
    it('prints JSON and exits 0 when nothing is pending', async () => {
      const printed = JSON.parse(onlyLine(await cli(['migrate'])));
      expect(printed).toEqual({ applied: [] });
    });

    it('applies every migration to an empty database', async () => {
      const adminUrl = process.env.TEST_ADMIN_DATABASE_URL!;
      const name = `notificaciones_cli_${Date.now()}_${process.pid}`;
      const admin = new Client({ connectionString: adminUrl });
      await admin.connect();
      try {
        await admin.query(`CREATE DATABASE ${name}`);
        const url = new URL(adminUrl);
        url.pathname = `/${name}`;
        const first = JSON.parse(
          onlyLine(await cli(['migrate'], { DATABASE_URL: url.toString() })),
        );
        expect(first.applied).toEqual([
          'InitialSchema1764115200000',
          'DeliveryOutbox1764979200000',
          'NotificationKinds1765584000000',
          'DeletionsOutbox1765670400000',
          'IdempotencyKeys1765756800000',
          'Preferences1765843200000',
          'CheapChecks1765929600000',
          'DeliveryProgress1766016000000',
        ]);
        const again = JSON.parse(
          onlyLine(await cli(['migrate'], { DATABASE_URL: url.toString() })),
        );
        expect(again).toEqual({ applied: [] });

        // No service runs on this database: notify stores, and says that nobody pushes it.
        const env = { DATABASE_URL: url.toString() };
        onlyLine(await cli(['user:create', 'nadie-escucha'], env));
        const notified = await cli(['notify', 'nadie-escucha', 'hola'], env);
        expect(notified.code).toBe(0);
        expect(JSON.parse(notified.stdout)).toMatchObject({ mensaje: 'hola', leida: false });
        expect(notified.stderr).toMatch(/no service is running on this database/);
        const fresh = new Client({ connectionString: url.toString() });
        await fresh.connect();
        try {
          const { rows } = await fresh.query<{ table_name: string }>(
            `SELECT table_name FROM information_schema.tables
             WHERE table_schema = 'public' AND table_name IN ('users', 'notificaciones')
             ORDER BY table_name`,
          );
          expect(rows.map((row) => row.table_name)).toEqual(['notificaciones', 'users']);
        } finally {
          await fresh.end();
        }
      } finally {
        await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
        await admin.end();
      }
    });
  });

  describe('usage', () => {
    it('refuses an unknown command with the usage on stderr', async () => {
      const result = await cli(['frobnicate']);
      expectFailure(result);
      expect(result.stderr).toContain('frobnicate');
      expect(result.stderr).toMatch(/usage/i);
      for (const command of ['user:create', 'token', 'notify', 'purge', 'migrate']) {
        expect(result.stderr).toContain(command);
      }
    });

    it('refuses no command at all with the usage', async () => {
      const result = await cli([]);
      expectFailure(result);
      expect(result.stderr).toMatch(/usage/i);
    });

    it('prints the usage on stdout for --help, -h and help, exit 0, even with a bad setting', async () => {
      const results = await Promise.all(
        [['--help'], ['-h'], ['help'], ['token', '--help']].map((args) =>
          cli(args, { DATABASE_URL: 'not a url' }),
        ),
      );
      for (const result of results) {
        expect({ code: result.code, stderr: result.stderr }).toEqual({ code: 0, stderr: '' });
        expect(result.stdout).toMatch(/^usage: /);
        for (const command of ['user:create', 'token', 'notify', 'purge', 'migrate', 'seed']) {
          expect(result.stdout).toContain(command);
        }
      }
    });

    it('refuses an unknown option with the usage', async () => {
      const result = await cli(['token', 'ana', '--frobnicate']);
      expectFailure(result);
      expect(result.stderr).toContain('--frobnicate');
      expect(result.stderr).toMatch(/usage/i);
    });

    it('stops with one line naming a bad configuration key', async () => {
      const result = await cli(['migrate'], { DATABASE_URL: 'not a url' });
      expectFailure(result);
      expect(result.stderr).toContain('DATABASE_URL');
      expect(result.stderr.trim().split('\n')).toHaveLength(1);
    });
  });
});

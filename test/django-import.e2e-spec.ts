import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import { DataSource } from 'typeorm';
import { openTestDatabase } from './support/database';
import { startApp, TestApp } from './support/app';
import { createTestDatabase, TestDatabase } from './support/database';
import { closeSockets, openSocket } from './support/socket-client';
import { bearer, signToken } from './support/tokens';

// Each command boots a Nest context in a child process: seconds, not milliseconds.
jest.setTimeout(60_000);

const ROOT = join(__dirname, '..');
const CLI = join(ROOT, 'dist', 'src', 'cli.js');
const FIXTURE = join(__dirname, 'fixtures', 'django-dumpdata.json');

interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

describe('cli import:django (dumpdata of the Django app)', () => {
  // A database of its own: the dump's ids are fixed, and the import moves the sequences.
  let own: { database: TestDatabase; stop: () => Promise<void> };
  let database: DataSource;
  let app: TestApp;
  let scratch: string;

  function cli(args: string[]): Promise<CliResult> {
    return new Promise((resolve, reject) => {
      const child = spawn(process.execPath, [CLI, ...args], {
        cwd: ROOT,
        env: {
          PATH: process.env.PATH,
          DATABASE_URL: own.database.url,
          JWT_SECRET: process.env.JWT_SECRET,
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stdout = '';
      let stderr = '';
      child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
      child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
      child.on('error', reject);
      child.on('close', (code) => resolve({ code, stdout, stderr }));
    });
  }

  /** Writes a dump into the scratch folder and answers its path. */
  function dump(name: string, elements: unknown[] | string): string {
    const path = join(scratch, name);
    writeFileSync(path, typeof elements === 'string' ? elements : JSON.stringify(elements));
    return path;
  }

  const user = (pk: number, username: string, extra: object = {}) => ({
    model: 'auth.user',
    pk,
    fields: { username, is_staff: false, is_active: true, password: '!', ...extra },
  });
  const notificacion = (pk: number, usuario: unknown, mensaje = `n${pk}`) => ({
    model: 'notifications.notificacion',
    pk,
    fields: { usuario, mensaje, leida: false, fecha: '2025-03-06T10:30:00.000Z' },
  });

  async function counts(): Promise<{ users: number; notificaciones: number; pending: number }> {
    const [row] = await database.query<
      Array<{ users: number; notificaciones: number; pending: number }>
    >(`SELECT (SELECT count(*) FROM users)::int AS users,
              (SELECT count(*) FROM notificaciones)::int AS notificaciones,
              (SELECT count(*) FROM entregas_pendientes)::int AS pending`);
    return row;
  }

  beforeAll(async () => {
    own = await createTestDatabase();
    database = await openTestDatabase(own.database.url);
    app = await startApp({ DATABASE_URL: own.database.url });
    scratch = mkdtempSync(join(tmpdir(), 'django-import-'));
  });
  afterEach(() => closeSockets());
  afterAll(async () => {
    await app?.close();
    await database?.destroy();
    await own?.stop();
    rmSync(scratch, { recursive: true, force: true });
  });

  it('imports users and notifications with their ids, fields and times', async () => {
    const result = await cli(['import:django', FIXTURE]);
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual({
      users: { in_file: 3, created: 3, updated: 0 },
      notifications: { in_file: 4, created: 4, updated: 0 },
      skipped: { 'auth.group': 1 },
    });
    expect(result.stderr).toMatch(/^import 100% /m);
    expect(await database.query('SELECT * FROM users ORDER BY id')).toEqual([
      { id: 7, username: 'gerente', is_staff: true, is_active: true },
      { id: 12, username: 'cocina', is_staff: false, is_active: true },
      { id: 15, username: 'antiguo-camarero', is_staff: false, is_active: false },
    ]);
    const rows = await database.query<
      Array<{ id: string; usuario_id: number; leida: boolean; fecha: Date }>
    >('SELECT id, usuario_id, leida, fecha FROM notificaciones ORDER BY id');
    expect(
      rows.map((row) => [Number(row.id), row.usuario_id, row.leida, row.fecha.toISOString()]),
    ).toEqual([
      [101, 12, true, '2025-03-05T13:15:02.731Z'],
      [102, 7, false, '2025-03-05T16:40:00.000Z'],
      [105, 12, false, '2025-03-06T09:30:00.123Z'],
      [240, 15, true, '2024-11-30T21:58:41.005Z'],
    ]);
    // History, not news: nothing was queued for live delivery.
    expect((await counts()).pending).toBe(0);
  });

  it('changes nothing when run again', async () => {
    const before = await counts();
    const result = await cli(['import:django', FIXTURE]);
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({
      users: { in_file: 3, created: 0, updated: 0 },
      notifications: { in_file: 4, created: 0, updated: 0 },
    });
    expect(await counts()).toEqual(before);
  });

  it('lets existing tokens in as the same users, and refuses the inactive one', async () => {
    const list = await request(app.url)
      .get('/notifications/api/list/')
      .set(bearer(signToken(12)))
      .expect(200);
    expect(list.body.notifications.map((n: { id: number }) => n.id)).toEqual([105, 101]);
    expect(list.body.unread_count).toBe(1);
    await request(app.url)
      .get('/notifications/api/list/')
      .set(bearer(signToken(15)))
      .expect(401);
  });

  it('hands out ids above the imported ones afterwards', async () => {
    const created = await request(app.url)
      .post('/notifications/api/send/')
      .set(bearer(signToken(7)))
      .send({ usuarios: [12], mensaje: 'after the import' })
      .expect(201);
    expect(created.body.ids[0]).toBeGreaterThan(240);
    const made = await cli(['user:create', 'nuevo-tras-importar']);
    expect(JSON.parse(made.stdout).id).toBeGreaterThan(15);
  });

  it('replays imported notifications on catch-up but never pushes them live', async () => {
    const tab = await openSocket(app.url, { token: signToken(7), since: 0 });
    await tab.waitFor('catch_up');
    expect(tab.ids()).toEqual([102]);
    const later = dump('later.json', [
      user(7, 'gerente', { is_staff: true }),
      notificacion(300, 7),
    ]);
    const result = await cli(['import:django', later]);
    expect(JSON.parse(result.stdout).notifications).toEqual({ in_file: 1, created: 1, updated: 0 });
    // A live notification after the import: the first to arrive is it, not notification 300.
    const sent = await request(app.url)
      .post('/notifications/api/send/')
      .set(bearer(signToken(7)))
      .send({ usuarios: [7], mensaje: 'live' })
      .expect(201);
    await tab.waitForMessage(sent.body.ids[0]);
    expect(tab.ids()).toEqual([102, sent.body.ids[0]]);
  });

  it('takes natural foreign keys, any order of models, and an indented dump', async () => {
    const path = dump(
      'natural.json',
      JSON.stringify([notificacion(400, ['natural']), user(40, 'natural')], null, 4),
    );
    const result = await cli(['import:django', path]);
    expect(result.code).toBe(0);
    const [row] = await database.query<Array<{ usuario_id: number }>>(
      'SELECT usuario_id FROM notificaciones WHERE id = 400',
    );
    expect(row.usuario_id).toBe(40);
  });

  it('updates what changed in the dump since the last run', async () => {
    const path = dump('changed.json', [
      user(40, 'natural', { is_active: false }),
      { ...notificacion(400, 40), fields: { ...notificacion(400, 40).fields, leida: true } },
    ]);
    const result = await cli(['import:django', path]);
    expect(JSON.parse(result.stdout)).toMatchObject({
      users: { created: 0, updated: 1 },
      notifications: { created: 0, updated: 1 },
    });
  });

  it('never makes a notification read here unread again', async () => {
    // Imported unread, read here since, then the same dump imported again.
    const path = dump('again.json', [user(40, 'natural'), notificacion(450, 40)]);
    expect((await cli(['import:django', path])).code).toBe(0);
    await database.query('UPDATE notificaciones SET leida = true WHERE id = 450');
    expect((await cli(['import:django', path])).code).toBe(0);
    const [row] = await database.query<Array<{ leida: boolean }>>(
      'SELECT leida FROM notificaciones WHERE id = 450',
    );
    expect(row.leida).toBe(true);
  });

  describe('refuses, with one line and exit status 1, and stores nothing', () => {
    async function refused(path: string, message: RegExp): Promise<void> {
      const before = await counts();
      const result = await cli(['import:django', path]);
      expect(result.code).toBe(1);
      expect(result.stdout).toBe('');
      const lines = result.stderr.split('\n').filter((line) => line.startsWith('error: '));
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(message);
      expect(await counts()).toEqual(before);
    }

    it('a missing file', () =>
      refused(join(scratch, 'missing.json'), /^error: cannot read .*missing\.json: no such file$/));

    it('a file that is not JSON', () =>
      refused(dump('broken.json', '[{"model": "auth.user", "pk": 1,'), /is not a JSON array/));

    it('JSON that is not an array', () =>
      refused(dump('object.json', '{"model": "auth.user"}'), /is not a JSON array/));

    it('a notification whose user is neither in the file nor in the table', () =>
      refused(
        dump('orphan.json', [user(50, 'huerfano-ok'), notificacion(500, 999)]),
        /^error: notification 500: user 999 is neither in the file nor in the users table$/,
      ));

    it('a dump made with --natural-primary (users without ids)', () =>
      refused(
        dump('natural-primary.json', [{ model: 'auth.user', fields: { username: 'x' } }]),
        /--natural-primary/,
      ));

    it('a notification id the service already gave to another notification', () =>
      refused(
        dump('taken.json', [notificacion(101, 7)]),
        /^error: notification 101: that id already belongs to another notification/,
      ));

    it('a username another user already has', () =>
      refused(dump('taken-name.json', [user(60, 'cocina')]), /belongs to user 12/));
  });
});

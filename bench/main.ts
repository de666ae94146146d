// `npm run bench [-- --quick] [-- --only deliver,list]`: starts the built service as a child
// process, seeds PostgreSQL, drives it over HTTP and Socket.IO from this process, runs every
// workload's raw baseline in the same run, prints a table and writes bench/results/<date>.json.
// Exit status: 0 done (and, in a full run, every target met), 1 the bench itself failed,
// 2 a full run missed a target.
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { resolve } from 'node:path';
import { BenchContext, FULL, QUICK, Workload } from './lib/context';
import { BenchDatabase, migrate, openBenchDatabase } from './lib/database';
import { ensureOpenFiles } from './lib/limits';
import { info, withTimeout } from './lib/log';
import { ROOT, SERVICE_ENTRY } from './lib/paths';
import { Report } from './lib/report';
import { killAllServices, Service, startService } from './lib/service';
import { generateSecret } from './lib/tokens';
import { cluster } from './workloads/cluster';
import { connections } from './workloads/connections';
import { deliver } from './workloads/deliver';
import { fanout } from './workloads/fanout';
import { list } from './workloads/list';
import { markread } from './workloads/markread';

const WORKLOADS: Workload[] = [deliver, fanout, list, markread, connections, cluster];

/** The whole run is bounded: a stuck run is killed, services and all. */
const WATCHDOG_MS = { quick: 3 * 60_000, full: 40 * 60_000 };

interface Args {
  quick: boolean;
  only: Workload[];
  /** The service's WORKERS: 1 (the default) runs it in one process, as every earlier run did. */
  workers: number;
}

/** More worker processes than this on a bench machine measure nothing but contention. */
const MOST_WORKERS = 64;

function usage(): string {
  return (
    'usage: npm run bench [-- [--quick] [--only <workload,...>] [--workers <n>]]\n' +
    `workloads: ${WORKLOADS.map((workload) => workload.name).join(', ')}\n`
  );
}

function parseArgs(argv: string[]): Args {
  let quick = false;
  let only = WORKLOADS;
  let workers = 1;
  for (let index = 0; index < argv.length; index += 1) {
    const arg = argv[index];
    if (arg === '--quick') quick = true;
    else if (arg === '--only' || arg.startsWith('--only=')) {
      const value = arg.startsWith('--only=') ? arg.slice('--only='.length) : argv[++index];
      const names = (value ?? '')
        .split(',')
        .map((name) => name.trim())
        .filter(Boolean);
      const unknown = names.filter((name) => !WORKLOADS.some((workload) => workload.name === name));
      if (names.length === 0 || unknown.length > 0) {
        throw new Error(
          `--only: unknown workload ${unknown.join(', ') || '(none given)'}\n${usage()}`,
        );
      }
      only = WORKLOADS.filter((workload) => names.includes(workload.name));
    } else if (arg === '--workers' || arg.startsWith('--workers=')) {
      const value = arg.startsWith('--workers=') ? arg.slice('--workers='.length) : argv[++index];
      workers = Number(value);
      if (!/^\d+$/.test(value ?? '') || workers < 1 || workers > MOST_WORKERS) {
        throw new Error(`--workers: a whole number from 1 to ${MOST_WORKERS}\n${usage()}`);
      }
    } else if (arg === '--help' || arg === '-h') {
      process.stdout.write(usage());
      process.exit(0);
    } else throw new Error(`unknown argument ${arg}\n${usage()}`);
  }
  return { quick, only, workers };
}

function fileStamp(date: Date): string {
  return date
    .toISOString()
    .replace(/\.\d+Z$/, 'Z')
    .replace(/:/g, '-');
}

async function main(): Promise<number> {
  const args = parseArgs(process.argv.slice(2));
  const sizes = args.quick ? QUICK : FULL;
  const wantsSockets = args.only.includes(connections) ? sizes.connections : sizes.fanoutConnected;
  const limits = await ensureOpenFiles(wantsSockets);
  if (limits.reexec) return Number(process.exitCode ?? 0);
  if (!existsSync(SERVICE_ENTRY)) {
    throw new Error(
      'the service is not built: run `npm run bench` (it builds first) or `npm run build`',
    );
  }

  const startedAt = new Date();
  const report = new Report(!args.quick);
  const services: Service[] = [];
  let shared: Service | undefined;
  let sharedService: Service | undefined;
  let db: BenchDatabase | undefined;
  const errors: Array<{ workload: string; error: string }> = [];
  const cleanup = async () => {
    const running = sharedService ? [...services, sharedService] : services;
    await Promise.allSettled(running.map((service) => service.stop()));
    killAllServices();
    await db?.close();
  };

  const watchdog = setTimeout(
    () => {
      process.stderr.write(
        `bench: still running after ${WATCHDOG_MS[args.quick ? 'quick' : 'full'] / 60_000} min; giving up\n`,
      );
      killAllServices();
      void withTimeout(cleanup(), 15_000, 'cleanup')
        .catch(() => undefined)
        .finally(() => process.exit(1));
    },
    WATCHDOG_MS[args.quick ? 'quick' : 'full'],
  );
  const interrupted = (signal: NodeJS.Signals) => {
    process.stderr.write(`bench: ${signal}, stopping\n`);
    killAllServices();
    void withTimeout(cleanup(), 15_000, 'cleanup')
      .catch(() => undefined)
      .finally(() => process.exit(130));
  };
  process.once('SIGINT', interrupted);
  process.once('SIGTERM', interrupted);

  try {
    info(
      `Bench ${args.quick ? '--quick' : 'full run'}: ${args.only.map((workload) => workload.name).join(', ')}` +
        ` (service with ${args.workers} worker${args.workers === 1 ? '' : 's'})`,
    );
    db = await openBenchDatabase();
    const database = db;
    await migrate(database.url);
    const secret = generateSecret();
    const context: BenchContext = {
      quick: args.quick,
      sizes,
      db: database,
      secret,
      tag: randomBytes(3).toString('hex'),
      report,
      details: {},
      redisUrl: process.env.REDIS_URL?.trim() || undefined,
      maxClientSockets: limits.maxSockets,
      startService: async (name, options = {}) => {
        const shareable = sizes.shareService && options.redisUrl === undefined;
        if (shareable && shared) return shared;
        const service = await startService({
          name: `service (${name})`,
          databaseUrl: database.url,
          jwtSecret: secret,
          redisUrl: options.redisUrl,
          workers: args.workers,
        });
        if (!shareable) {
          services.push(service);
          return service;
        }
        // Workloads stop what they start; the shared instance is stopped once, at the end.
        sharedService = service;
        shared = { ...service, stop: () => Promise.resolve() };
        return shared;
      },
    };
    for (const workload of args.only) {
      const began = Date.now();
      info(`== ${workload.name}`);
      try {
        await workload.run(context);
      } catch (error) {
        const message = (error as Error).stack ?? String(error);
        errors.push({ workload: workload.name, error: (error as Error).message });
        process.stderr.write(`bench: workload ${workload.name} failed: ${message}\n`);
        for (const service of sharedService ? [...services, sharedService] : services) {
          process.stderr.write(`--- last output of ${service.name}\n${service.recentOutput()}\n`);
        }
      } finally {
        await Promise.allSettled(services.splice(0).map((service) => service.stop()));
      }
      info(`== ${workload.name} done in ${((Date.now() - began) / 1000).toFixed(0)} s`);
    }

    const finishedAt = new Date();
    process.stdout.write(`\n${report.table()}\n\n`);
    const results = {
      date: startedAt.toISOString(),
      durationSeconds: Math.round((finishedAt.getTime() - startedAt.getTime()) / 1000),
      mode: args.quick ? 'quick' : 'full',
      workloads: args.only.map((workload) => workload.name),
      conditions: {
        node: process.version,
        platform: `${process.platform} ${process.arch}`,
        cpus: cpus().length,
        cpuModel: cpus()[0]?.model,
        memoryGb: Math.round(totalmem() / 2 ** 30),
        loadAverageAtStart: loadavg(),
        database: database.kind === 'embedded' ? 'embedded PostgreSQL' : 'DATABASE_URL',
        postgres: database.serverVersion,
        redis: context.redisUrl !== undefined,
        serviceWorkers: args.workers,
        serviceNodeOptions: process.env.BENCH_SERVICE_NODE_OPTIONS ?? '',
      },
      rows: report.rows,
      errors,
      details: context.details,
    };
    const folder = resolve(ROOT, 'bench', 'results');
    mkdirSync(folder, { recursive: true });
    const file = resolve(folder, `${fileStamp(startedAt)}${args.quick ? '-quick' : ''}.json`);
    writeFileSync(file, `${JSON.stringify(results, null, 2)}\n`);
    info(
      `Results written to bench/results/${fileStamp(startedAt)}${args.quick ? '-quick' : ''}.json (${results.durationSeconds} s)`,
    );
    if (errors.length > 0) {
      process.stderr.write(
        `bench: ${errors.length} workload(s) failed: ${errors.map((entry) => entry.workload).join(', ')}\n`,
      );
      return 1;
    }
    if (report.failures() > 0) {
      process.stderr.write(`bench: ${report.failures()} target(s) missed\n`);
      return 2;
    }
    return 0;
  } finally {
    clearTimeout(watchdog);
    await cleanup();
  }
}

process.on('exit', killAllServices);
main().then(
  (code) => process.exit(code),
  (error: Error) => {
    process.stderr.write(`bench: ${error.message}\n`);
    process.exit(1);
  },
);

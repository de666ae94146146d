import { ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { freePort } from '../../src/common/free-port';
import { info } from './log';
import { ROOT, SERVICE_ENTRY, benchFile } from './paths';

/** One running instance of the built service, in its own process. */
export interface Service {
  name: string;
  /** e.g. http://127.0.0.1:41234 */
  url: string;
  port: number;
  pid: number;
  /** Resident set size of the service process, from /proc (NaN where there is no /proc). */
  rssBytes(): number;
  /** Heap in use after a full garbage collection in the process (see heap-probe.ts). */
  heapUsedBytes(): Promise<number>;
  /** The last lines the service printed, for error reports. */
  recentOutput(): string;
  stop(): Promise<void>;
}

export interface ServiceOptions {
  name: string;
  databaseUrl: string;
  jwtSecret: string;
  redisUrl?: string;
  /**
   * The service's WORKERS (1: one process). With more, the process started is the primary:
   * `rssBytes` and `heapUsedBytes` then read the primary alone, not its workers.
   */
  workers: number;
}

/** Any node program the bench runs as a server of its own (the service, the socket baseline). */
export interface ProcessOptions {
  name: string;
  entry: string;
  env: Record<string, string>;
  /** Extra node flags (the service's come from BENCH_SERVICE_NODE_OPTIONS). */
  nodeFlags?: string[];
  /** Stop with SIGUSR2 (profiling preload) instead of SIGTERM. */
  exitSignal?: NodeJS.Signals;
}

const READY_TIMEOUT_MS = 60_000;
const HEAP_TIMEOUT_MS = 30_000;
const STOP_TIMEOUT_MS = 10_000;
const OUTPUT_LINES = 80;

const running = new Set<ChildProcess>();

/** Extra node flags for the service (e.g. `--cpu-prof --cpu-prof-dir=profiles`). */
function serviceNodeFlags(): { flags: string[]; profiling: boolean } {
  const flags = (process.env.BENCH_SERVICE_NODE_OPTIONS ?? '').split(/\s+/).filter(Boolean);
  const profiling = flags.some((flag) => /^--(cpu|heap)-prof/.test(flag));
  // Nest re-raises SIGTERM after closing, and a process killed by a signal writes no profile:
  // when profiling, stop it with SIGUSR2 through a preload that exits normally instead.
  if (profiling) flags.push('--require', benchFile('lib/exit-on-signal.js'));
  return { flags, profiling };
}

/** Resident set size of a process in bytes, from /proc/<pid>/status. */
export function rssOf(pid: number): number {
  try {
    const match = /^VmRSS:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) * 1024 : Number.NaN;
  } catch {
    return Number.NaN;
  }
}

async function healthy(url: string): Promise<boolean> {
  try {
    const response = await fetch(`${url}/health`, { signal: AbortSignal.timeout(2000) });
    await response.arrayBuffer();
    return response.status === 200;
  } catch {
    return false;
  }
}

/** Starts `node dist/src/main.js` on a free port and resolves once /health answers 200. */
export function startService(options: ServiceOptions): Promise<Service> {
  const { flags, profiling } = serviceNodeFlags();
  return startProcess({
    name: options.name,
    entry: SERVICE_ENTRY,
    nodeFlags: flags,
    exitSignal: profiling ? 'SIGUSR2' : 'SIGTERM',
    env: {
      DATABASE_URL: options.databaseUrl,
      JWT_SECRET: options.jwtSecret,
      // Empty rather than unset, so a `.env` file cannot switch Redis on behind the bench's back.
      REDIS_URL: options.redisUrl ?? '',
      NODE_ENV: 'production',
      // Explicit: production's default is one worker per CPU, and every figure before --workers
      // existed was measured with one process. DB_POOL_MAX stays the default 20 in all.
      WORKERS: String(options.workers),
      HOST: '127.0.0.1',
      RETENTION_DAYS: '0',
      CORS_ORIGINS: '',
      // The limiter stays on (its cost is part of every request) but never trips: one staff user
      // sends thousands of notifications a second here, far beyond any real per-user quota.
      HTTP_RATE_LIMIT_PER_MINUTE: '10000000',
    },
  });
}

/** Starts `node <entry>` with PORT set to a free port; resolves once GET /health answers 200. */
export async function startProcess(options: ProcessOptions): Promise<Service> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const heapProbe = ['--expose-gc', '--require', benchFile('lib/heap-probe.js')];
  const child = spawn(
    process.execPath,
    [...heapProbe, ...(options.nodeFlags ?? []), options.entry],
    {
      cwd: ROOT,
      env: { ...process.env, ...options.env, PORT: String(port) },
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    },
  );
  child.channel?.unref();
  running.add(child);
  const lines: string[] = [];
  const keep = (chunk: Buffer) => {
    for (const line of chunk.toString('utf8').split('\n')) {
      if (line.trim() === '') continue;
      lines.push(line);
      if (process.env.BENCH_VERBOSE) process.stderr.write(`  [${options.name}] ${line}\n`);
    }
    if (lines.length > OUTPUT_LINES) lines.splice(0, lines.length - OUTPUT_LINES);
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  let exitCode: number | string | null | undefined;
  const exited = new Promise<void>((resolve) => {
    child.once('exit', (code, signal) => {
      exitCode = code ?? signal;
      running.delete(child);
      resolve();
    });
  });
  const recentOutput = () => lines.join('\n');

  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (!(await healthy(url))) {
    if (exitCode !== undefined) {
      throw new Error(
        `${options.name} exited (${exitCode}) before it was ready:\n${recentOutput()}`,
      );
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(
        `${options.name} was not healthy within ${READY_TIMEOUT_MS} ms:\n${recentOutput()}`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  info(`${options.name} ready on ${url} (pid ${child.pid})`);

  return {
    name: options.name,
    url,
    port,
    pid: child.pid!,
    rssBytes: () => rssOf(child.pid!),
    heapUsedBytes: () => heapUsedOf(child),
    recentOutput,
    stop: async () => {
      if (exitCode !== undefined) return;
      child.kill(options.exitSignal ?? 'SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** Asks a process started with the heap probe for its heap in use after a full collection. */
function heapUsedOf(child: ChildProcess): Promise<number> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.off('message', answer);
      reject(new Error(`no heap figure from pid ${child.pid} within ${HEAP_TIMEOUT_MS} ms`));
    }, HEAP_TIMEOUT_MS);
    const answer = (message: unknown) => {
      const heapUsed = (message as { heapUsed?: unknown } | null)?.heapUsed;
      if (typeof heapUsed !== 'number') return;
      clearTimeout(timer);
      child.off('message', answer);
      resolve(heapUsed);
    };
    child.on('message', answer);
    child.send('heap');
  });
}

/** Kills every service still running, synchronously: for exit paths. */
export function killAllServices(): void {
  for (const child of running) child.kill('SIGKILL');
  running.clear();
}

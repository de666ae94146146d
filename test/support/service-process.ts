import { ChildProcess, spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { freePort } from '../../src/common/free-port';
import { waitFor } from './wait';

const ROOT = resolve(__dirname, '..', '..');
export const MAIN_JS = join(ROOT, 'dist', 'src', 'main.js');
export const CLI_JS = join(ROOT, 'dist', 'src', 'cli.js');

/** Fails clearly when the compiled service is missing (npm test builds it first). */
export function assertBuilt(): void {
  if (!existsSync(MAIN_JS) || !existsSync(CLI_JS)) {
    throw new Error('dist/ is missing: run `npm run -s build` before these tests');
  }
}

const running = new Set<ChildProcess>();
// A test that fails half-way must not leave a service behind.
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

/** Every service started in this test file, even one whose start outlived its test. */
const started = new Set<ServiceProcess>();

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** The compiled service (`node dist/src/main.js`) running as a child process. */
export class ServiceProcess {
  private log = '';
  readonly exited: Promise<Exit>;

  private constructor(
    private readonly child: ChildProcess,
    readonly port: number,
    readonly cwd: string,
  ) {
    running.add(child);
    started.add(this);
    child.stdout?.on('data', (chunk: Buffer) => (this.log += chunk.toString()));
    child.stderr?.on('data', (chunk: Buffer) => (this.log += chunk.toString()));
    this.exited = new Promise((resolveExit) =>
      child.once('exit', (code, signal) => {
        running.delete(child);
        resolveExit({ code, signal });
      }),
    );
  }

  /**
   * Starts the service with exactly `env` (plus PATH), in a fresh working folder so no `.env`
   * leaks in, on a free port. Resolves once it answers HTTP, unless `waitReady` is false.
   * It listens on 127.0.0.1 unless `env` says otherwise (`HOST: undefined`: the default).
   */
  static async start(
    env: Record<string, string | undefined>,
    options: { waitReady?: boolean; port?: number; readyTimeoutMs?: number; cwd?: string } = {},
  ): Promise<ServiceProcess> {
    assertBuilt();
    const port = options.port ?? (await freePort());
    const cwd = options.cwd ?? mkdtempSync(join(tmpdir(), 'notificaciones-service-'));
    // The embedded PostgreSQL runs as another user, which must be able to enter this folder.
    chmodSync(cwd, 0o755);
    const child = spawn(process.execPath, [MAIN_JS], {
      cwd,
      env: {
        PATH: process.env.PATH,
        NODE_ENV: 'test',
        // Logged, so tests can read what the service says (test runs are quiet by default).
        LOG_LEVEL: 'info',
        HOST: '127.0.0.1',
        ...env,
        PORT: String(port),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const service = new ServiceProcess(child, port, cwd);
    if (options.waitReady ?? true) await service.ready(options.readyTimeoutMs ?? 20000);
    return service;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  get pid(): number {
    return this.child.pid!;
  }

  /** Everything the process wrote to stdout and stderr so far. */
  output(): string {
    return this.log;
  }

  get isRunning(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Resolves once the service answers HTTP (any status: /health may be 503 on purpose). */
  async ready(timeoutMs = 20000): Promise<void> {
    await waitFor(
      `the service on port ${this.port} to answer`,
      async () => {
        if (!this.isRunning) {
          throw new Error(`the service exited during start-up:\n${this.log.slice(-3000)}`);
        }
        const response = await fetch(`${this.url}/health`);
        await response.arrayBuffer();
        return true;
      },
      { timeoutMs, intervalMs: 100 },
    );
  }

  /** Fails with the end of its output when the process has died (e.g. after a fault). */
  assertAlive(): void {
    if (!this.isRunning) throw new Error(`the service died:\n${this.log.slice(-3000)}`);
  }

  /** Resolves once the output matches `pattern`. */
  waitForOutput(pattern: RegExp, timeoutMs = 10000): Promise<true> {
    return waitFor(`output matching ${pattern}`, () => pattern.test(this.log), { timeoutMs });
  }

  /** Sends `signal` and resolves with how the process ended. */
  async stop(signal: NodeJS.Signals = 'SIGTERM', timeoutMs = 15000): Promise<Exit> {
    if (this.isRunning) this.child.kill(signal);
    let timer: NodeJS.Timeout | undefined;
    const exit = await Promise.race([
      this.exited,
      new Promise<undefined>((resolveTimeout) => {
        timer = setTimeout(() => resolveTimeout(undefined), timeoutMs);
      }),
    ]);
    clearTimeout(timer);
    if (exit) return exit;
    this.child.kill('SIGKILL');
    throw new Error(`the service did not exit within ${timeoutMs} ms of ${signal}`);
  }

  /** Disposes of every service this test file started: for `afterAll`, whatever happened. */
  static async disposeAll(): Promise<void> {
    await Promise.all([...started].map((service) => service.dispose()));
  }

  /** Kills the process if it still runs and, unless told to keep it, removes its working folder. */
  async dispose({ keepCwd = false }: { keepCwd?: boolean } = {}): Promise<void> {
    if (this.isRunning) {
      this.child.kill('SIGKILL');
      await this.exited;
    }
    if (!keepCwd) rmSync(this.cwd, { recursive: true, force: true });
    started.delete(this);
  }
}

/** True while the process runs (an exited one waiting to be reaped does not count). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    // The state follows the parenthesised command name: Z is a zombie.
    return !/\) Z /.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return true;
  }
}

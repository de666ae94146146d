import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { info, warn } from './log';

/** Descriptors kept free for everything that is not a client socket (pools, files, HTTP). */
const HEADROOM = 1000;

function openFilesLimit(): { soft: number; hard: number } | undefined {
  try {
    const match = /^Max open files\s+(\S+)\s+(\S+)/m.exec(
      readFileSync('/proc/self/limits', 'utf8'),
    );
    if (!match) return undefined;
    const parse = (value: string) => (value === 'unlimited' ? Infinity : Number(value));
    return { soft: parse(match[1]), hard: parse(match[2]) };
  } catch {
    return undefined;
  }
}

/**
 * Makes room for `sockets` client sockets (the service child inherits the same limit). Node cannot
 * raise its own limit, so when the soft limit is short and the hard one allows it, the bench
 * runs itself again under `ulimit -n`; resolves `{ reexec }` when that child has taken over.
 * Otherwise resolves with how many client sockets fit.
 */
export function ensureOpenFiles(
  sockets: number,
): Promise<{ reexec: true } | { reexec: false; maxSockets: number }> {
  const limit = openFilesLimit();
  if (!limit) return Promise.resolve({ reexec: false, maxSockets: sockets });
  const needed = sockets + HEADROOM;
  if (limit.soft >= needed) return Promise.resolve({ reexec: false, maxSockets: sockets });
  if (limit.hard < needed || process.env.BENCH_OPEN_FILES_RAISED) {
    warn(
      `open-files limit is ${limit.soft} (hard ${limit.hard}); the bench needs ${needed} for ${sockets} sockets`,
    );
    return Promise.resolve({ reexec: false, maxSockets: Math.max(0, limit.soft - HEADROOM) });
  }
  info(`Raising the open-files limit from ${limit.soft} to ${needed}`);
  const child = spawn(
    '/bin/sh',
    [
      '-c',
      'ulimit -n "$0" && exec "$@"',
      String(needed),
      process.execPath,
      ...process.execArgv,
      ...process.argv.slice(1),
    ],
    { stdio: 'inherit', env: { ...process.env, BENCH_OPEN_FILES_RAISED: '1' } },
  );
  return new Promise((resolve) => {
    child.on('exit', (code, signal) => {
      process.exitCode = code ?? (signal ? 1 : 0);
      resolve({ reexec: true });
    });
  });
}

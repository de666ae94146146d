import { resolve } from 'node:path';

/** The project root (this file runs from dist/bench/lib/). */
export const ROOT = resolve(__dirname, '..', '..', '..');

/** The compiled service entry point. */
export const SERVICE_ENTRY = resolve(ROOT, 'dist', 'src', 'main.js');

/** The compiled command line (`migrate`, `user:create`, ...). */
export const CLI_ENTRY = resolve(ROOT, 'dist', 'src', 'cli.js');

/** A compiled file of the bench itself, e.g. `lib/list-baseline-server.js`. */
export function benchFile(relative: string): string {
  return resolve(ROOT, 'dist', 'bench', relative);
}

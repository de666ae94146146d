// Builds (nest build) only when a source is newer than the compiled file named as the argument,
// so `npm run -s cli` and `npm start` cost a build only after an edit, not every time. Where
// there are no sources at all (an image or install made from dist/), it never builds.
// Plain JavaScript without dependencies: it runs before anything is compiled.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

const output = process.argv[2];
if (!output) {
  process.stderr.write(
    'usage: node scripts/build-if-stale.mjs <compiled file, e.g. dist/src/cli.js>\n',
  );
  process.exit(2);
}

/** What the build reads: a newer mtime in any of these means dist/ is out of date. */
const SOURCES = ['src', 'migrations', 'tsconfig.json', 'tsconfig.build.json', 'nest-cli.json'];

function newestMtime(path) {
  const stats = statSync(path);
  if (!stats.isDirectory()) return stats.mtimeMs;
  let newest = stats.mtimeMs; // a deleted or renamed file shows only in its folder's mtime
  for (const entry of readdirSync(path)) newest = Math.max(newest, newestMtime(join(path, entry)));
  return newest;
}

if (!existsSync('src')) process.exit(0);

const built = existsSync(output) ? statSync(output).mtimeMs : 0;
const sources = Math.max(...SOURCES.filter((path) => existsSync(path)).map(newestMtime));
if (sources <= built) process.exit(0);

process.stderr.write(built === 0 ? 'building (no dist/ yet)…\n' : 'sources changed: rebuilding…\n');
// The build's output goes to stderr: stdout carries only what the command prints.
const build = spawnSync('npm', ['run', '-s', 'build'], { stdio: ['ignore', 2, 2] });
if (build.status !== 0) {
  process.stderr.write(
    build.status === 127
      ? 'cannot build: the Nest CLI is not installed (run npm ci, with the dev dependencies)\n'
      : 'build failed\n',
  );
  process.exit(build.status ?? 1);
}

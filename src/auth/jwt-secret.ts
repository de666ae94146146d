import { randomBytes } from 'node:crypto';
import { linkSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { AppConfig } from '../config/configuration';

function errorCode(error: unknown): string | undefined {
  return (error as NodeJS.ErrnoException).code;
}

/**
 * The HS256 key: `JWT_SECRET`, or in development a random key generated once and kept under
 * the data folder, so tokens minted by the CLI keep working across restarts.
 * (Production never gets here without `JWT_SECRET`: configuration refuses to start.)
 *
 * Two first starts at once (the server and the CLI, two instances) must end up with one key.
 * The new key is written in full to a file of this process's own, then hard-linked into place:
 * the link either appears with the whole key or fails with EEXIST, in which case another process
 * won and its key is the one to read. A file being written is never visible under the real name.
 */
export function resolveJwtSecret(config: Pick<AppConfig, 'jwtSecret' | 'dataDir'>): string {
  if (config.jwtSecret !== undefined) return config.jwtSecret;
  const file = join(config.dataDir, 'jwt-secret');
  try {
    return readKey(file);
  } catch (error) {
    if (errorCode(error) !== 'ENOENT') throw error;
  }
  mkdirSync(config.dataDir, { recursive: true });
  const draft = `${file}.${process.pid}.${randomBytes(6).toString('hex')}`;
  writeFileSync(draft, randomBytes(32).toString('base64url'), { mode: 0o600, flag: 'wx' });
  try {
    linkSync(draft, file);
  } catch (error) {
    if (errorCode(error) !== 'EEXIST') throw error;
  } finally {
    rmSync(draft, { force: true });
  }
  return readKey(file);
}

function readKey(file: string): string {
  const key = readFileSync(file, 'utf8').trim();
  if (key === '') throw new Error(`${file} is empty: delete it and a new key is generated`);
  return key;
}

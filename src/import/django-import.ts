import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { streamArray } from 'stream-json/streamers/stream-array.js';
import type { DataSource } from 'typeorm';
import { withoutTimeouts } from '../database/bounded-client';
import { DjangoImportRepository, UpsertCounts } from './django-import.repository';
import { DumpError, DumpNotification, DumpUser, readDumpRecord } from './django-records';

/** Called as the file is read: bytes so far, out of the file's size. */
export type ImportProgress = (done: number, total: number) => void;

export interface DjangoImportSummary {
  users: UpsertCounts & { in_file: number };
  notifications: UpsertCounts & { in_file: number };
  /** Elements of other models, by model: left out. */
  skipped: Record<string, number>;
}

/** Rows staged per statement: large enough to be fast, small enough to keep memory flat. */
const BATCH = 10_000;

/**
 * New notifications from which the table's indexes and foreign key are dropped and rebuilt
 * rather than kept up to date row by row (several times faster for a large import; it holds
 * the table locked until the import commits). Below it, the table stays usable throughout.
 */
const REBUILD_INDEXES_FROM = 100_000;

/** A reason the import could not run, in one line (the database is left as it was). */
export class DjangoImportError extends Error {}

/** What a read error means to someone who typed the path. */
function unreadable(path: string, error: NodeJS.ErrnoException): DjangoImportError {
  const why =
    error.code === 'ENOENT'
      ? 'no such file'
      : error.code === 'EISDIR'
        ? 'it is a directory'
        : error.code === 'EACCES'
          ? 'permission denied'
          : error.message;
  return new DjangoImportError(`cannot read ${path}: ${why}`);
}

/** The elements of the dump's top-level array, one at a time, parsed as they stream in. */
async function* elementsOf(path: string, progress: ImportProgress): AsyncGenerator<unknown> {
  const { size } = await stat(path).catch((error: NodeJS.ErrnoException) => {
    throw unreadable(path, error);
  });
  const file = createReadStream(path, { highWaterMark: 1024 * 1024 });
  const parsed = streamArray.withParserAsStream();
  file.on('error', (error: NodeJS.ErrnoException) => parsed.destroy(unreadable(path, error)));
  file.on('data', () => progress(file.bytesRead, size));
  file.pipe(parsed);
  try {
    for await (const item of parsed as Readable) yield (item as { value: unknown }).value;
  } catch (error) {
    if (error instanceof DjangoImportError) throw error;
    throw new DjangoImportError(
      `${path} is not a JSON array of dumpdata objects: ${(error as Error).message}`,
    );
  } finally {
    file.destroy();
  }
}

/**
 * Imports what `python manage.py dumpdata auth.user notifications.notificacion` wrote (any
 * `--indent`, natural foreign keys, other models skipped): users and notifications keep their
 * ids, so existing tokens and clients stay valid. One transaction: it all goes in or nothing
 * does. Re-running it creates nothing and changes only what changed in the dump since.
 */
export async function importDjangoDump(
  dataSource: DataSource,
  path: string,
  progress: ImportProgress = () => undefined,
): Promise<DjangoImportSummary> {
  const runner = dataSource.createQueryRunner();
  await runner.connect();
  try {
    // A million rows take longer than any request may: no request timeouts on this connection.
    return await withoutTimeouts(runner, async () => {
      await runner.startTransaction();
      try {
        const summary = await stageAndWrite(new DjangoImportRepository(runner), path, progress);
        await runner.commitTransaction();
        return summary;
      } catch (error) {
        await runner.rollbackTransaction().catch(() => undefined);
        throw error;
      }
    });
  } finally {
    await runner.release();
  }
}

async function stageAndWrite(
  repository: DjangoImportRepository,
  path: string,
  progress: ImportProgress,
): Promise<DjangoImportSummary> {
  await repository.stage();
  let users: DumpUser[] = [];
  let notifications: DumpNotification[] = [];
  let usersInFile = 0;
  let notificationsInFile = 0;
  const skipped: Record<string, number> = {};
  let index = 0;
  try {
    for await (const element of elementsOf(path, progress)) {
      const record = readDumpRecord(element, index++);
      switch (record.kind) {
        case 'user':
          users.push(record);
          usersInFile += 1;
          if (users.length === BATCH) {
            await repository.stageUsers(users);
            users = [];
          }
          break;
        case 'notification':
          notifications.push(record);
          notificationsInFile += 1;
          if (notifications.length === BATCH) {
            await repository.stageNotifications(notifications);
            notifications = [];
          }
          break;
        case 'other':
          skipped[record.model] = (skipped[record.model] ?? 0) + 1;
          break;
      }
    }
  } catch (error) {
    if (error instanceof DumpError) throw new DjangoImportError(error.message);
    throw error;
  }
  if (users.length > 0) await repository.stageUsers(users);
  if (notifications.length > 0) await repository.stageNotifications(notifications);

  const userRefusal = await repository.refuseUsers();
  if (userRefusal) throw new DjangoImportError(userRefusal.reason);
  const userCounts = await repository.upsertUsers();
  const notificationRefusal = await repository.refuseNotifications();
  if (notificationRefusal) throw new DjangoImportError(notificationRefusal.reason);
  const created = await repository.countNewNotifications();
  const updated = await repository.updateChangedNotifications();
  if (created >= REBUILD_INDEXES_FROM) {
    const restore = await repository.dropNotificationIndexes();
    await repository.insertNewNotifications();
    await repository.restore(restore);
  } else if (created > 0) {
    await repository.insertNewNotifications();
  }
  const notificationCounts = { created, updated };
  await repository.moveSequencesPastIds();
  return {
    users: { in_file: usersInFile, ...userCounts },
    notifications: { in_file: notificationsInFile, ...notificationCounts },
    skipped,
  };
}

import { DataSource } from 'typeorm';
import { pgPoolOf } from '../src/database/pg-pool';
import { NotificationsService } from '../src/notifications/notifications.service';
import { RetentionJob } from '../src/notifications/retention.job';
import { startApp, TestApp } from './support/app';
import { backdate, createUser, existing } from './support/fixtures';
import { ANCIENT_DAYS, withPurgeLock } from './support/purge-lock';

async function insertRows(
  dataSource: DataSource,
  userId: number,
  count: number,
): Promise<number[]> {
  const rows = await dataSource.query<Array<{ id: string }>>(
    `INSERT INTO notificaciones (usuario_id, mensaje)
     SELECT $1, 'old ' || g FROM generate_series(1, $2::int) AS g
     RETURNING id`,
    [userId, count],
  );
  return rows.map((row) => Number(row.id));
}

describe('retention on two instances', () => {
  let a: TestApp;
  let b: TestApp;

  beforeAll(async () => {
    // Only rows older than any other test writes are this purge's business.
    const env = { RETENTION_DAYS: String(ANCIENT_DAYS) };
    [a, b] = await Promise.all([startApp(env, { lead: 'any' }), startApp(env, { lead: 'any' })]);
  });

  afterAll(async () => {
    await Promise.all([a?.close(), b?.close()]);
  });

  it('purges on one instance at a time: the other skips, and every old row goes once', async () => {
    const user = await createUser(a);
    const old = await insertRows(a.dataSource, user.id, 40);
    const [recent] = await insertRows(a.dataSource, user.id, 1);
    const serviceA = a.app.get(NotificationsService);
    const purgeOnA = serviceA.purgeOlderThan.bind(serviceA);

    await withPurgeLock(a.dataSource, async () => {
      await backdate(a.dataSource, old, ANCIENT_DAYS + 1);
      // A takes the lock and is held inside it, so B's daily run comes while A's runs.
      let entered!: () => void;
      let release!: () => void;
      const inside = new Promise<void>((resolve) => (entered = resolve));
      const gate = new Promise<void>((resolve) => (release = resolve));
      const spy = jest
        .spyOn(serviceA, 'purgeOlderThan')
        .mockImplementationOnce(async (days: number) => {
          entered();
          await gate;
          return purgeOnA(days);
        });
      try {
        const onA = a.app.get(RetentionJob).purge();
        await inside;
        expect(await b.app.get(RetentionJob).purge()).toBeUndefined();
        release();
        expect(await onA).toBeGreaterThanOrEqual(old.length);
      } finally {
        release();
        spy.mockRestore();
      }
      expect(await existing(a.dataSource, [...old, recent])).toEqual([recent]);
      // The lock is free again, and nothing is left to delete twice.
      expect(await b.app.get(RetentionJob).purge()).toBe(0);
    });
  });

  it('deletes in batches, not in one statement', async () => {
    const user = await createUser(a);
    const old = await insertRows(a.dataSource, user.id, 12_000);
    await withPurgeLock(a.dataSource, async () => {
      await backdate(a.dataSource, old, ANCIENT_DAYS + 1);
      const query = jest.spyOn(pgPoolOf(a.dataSource)!, 'query');
      try {
        expect(await a.app.get(RetentionJob).purge()).toBeGreaterThanOrEqual(old.length);
        // Named statements: a config object, not a string.
        const deletes = query.mock.calls.filter(([config]) =>
          /DELETE FROM notificaciones/.test((config as unknown as { text: string }).text),
        );
        expect(deletes.length).toBeGreaterThanOrEqual(3);
      } finally {
        query.mockRestore();
      }
      expect(await existing(a.dataSource, old)).toEqual([]);
    });
  }, 30000);
});

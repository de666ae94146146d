import { BadRequestException } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { Notificacion } from '../src/notifications/notificacion.entity';
import { NotificationsService } from '../src/notifications/notifications.service';
import { User } from '../src/users/user.entity';
import { startApp, TestApp } from './support/app';
import { backdate, createUser, existing } from './support/fixtures';
import { ANCIENT_DAYS, withPurgeLock } from './support/purge-lock';
import { closeSockets, openSocket, RecordedSocket } from './support/socket-client';
import { signToken } from './support/tokens';

// The project-level testTimeout in jest.config.js is not applied by jest; set it here.
jest.setTimeout(30_000);

class Rollback extends Error {}

describe('in-process API (NotificationsService)', () => {
  let app: TestApp;
  let service: NotificationsService;

  beforeAll(async () => {
    app = await startApp();
    service = app.app.get(NotificationsService);
  });
  afterEach(() => closeSockets());
  afterAll(() => app.close());

  /** A fresh user with a connected socket that has had its connect-time unread_count. */
  async function listener(options: { staff?: boolean } = {}): Promise<{
    user: User;
    tab: RecordedSocket;
  }> {
    const user = await createUser(app, options);
    const tab = await openSocket(app.url, { token: signToken(user) });
    await tab.waitFor('unread_count');
    return { user, tab };
  }

  /**
   * Proves that nothing reached `tab` yet except `expected`: a notification created now
   * (outside any transaction) arrives after anything emitted before it.
   */
  async function expectOnly(tab: RecordedSocket, user: User, expected: number[]): Promise<void> {
    const marker = await service.notificarUsuario(user, 'marker');
    await tab.waitForMessage(marker.id);
    expect(tab.ids()).toEqual([...expected, marker.id]);
  }

  async function rowExists(id: number): Promise<boolean> {
    return (await existing(app.dataSource, [id])).length === 1;
  }

  describe('notificarUsuario', () => {
    it('returns the stored Notificacion for a User and emits it', async () => {
      const { user, tab } = await listener();
      const created = await service.notificarUsuario(user, 'Pedido #42 listo');
      expect(created).toBeInstanceOf(Notificacion);
      expect(created).toMatchObject({
        id: expect.any(Number),
        usuarioId: user.id,
        mensaje: 'Pedido #42 listo',
        leida: false,
      });
      expect(created.fecha).toBeInstanceOf(Date);
      expect(created.toString()).toBe(`${user.username} - Pedido #42 listo`);
      expect(String(created)).toBe(`${user.username} - Pedido #42 listo`);

      await expect(tab.waitForMessage(created.id)).resolves.toStrictEqual({
        type: 'notificacion_mensaje',
        message: 'Pedido #42 listo',
        notificacion: {
          id: created.id,
          mensaje: 'Pedido #42 listo',
          leida: false,
          fecha: created.fecha.toISOString(),
          tipo: 'general',
          url: null,
          datos: null,
        },
      });
      const [row] = await app.dataSource.query<
        Array<{ usuario_id: number; mensaje: string; leida: boolean; fecha: Date }>
      >('SELECT usuario_id, mensaje, leida, fecha FROM notificaciones WHERE id = $1', [created.id]);
      expect(row).toEqual({
        usuario_id: user.id,
        mensaje: 'Pedido #42 listo',
        leida: false,
        fecha: created.fecha,
      });
    });

    it('accepts a user id, with the same string form', async () => {
      const { user, tab } = await listener();
      const created = await service.notificarUsuario(user.id, 'by id');
      expect(created).toBeInstanceOf(Notificacion);
      expect(created).toMatchObject({ usuarioId: user.id, mensaje: 'by id', leida: false });
      expect(created.fecha).toBeInstanceOf(Date);
      expect(created.toString()).toBe(`${user.username} - by id`);
      await tab.waitForMessage(created.id);
    });

    it('stores the database time in fecha', async () => {
      const user = await createUser(app);
      const [{ before }] =
        await app.dataSource.query<Array<{ before: Date }>>('SELECT now() AS before');
      const created = await service.notificarUsuario(user, 'when');
      const [{ after }] =
        await app.dataSource.query<Array<{ after: Date }>>('SELECT now() AS after');
      expect(created.fecha.getTime()).toBeGreaterThanOrEqual(before.getTime());
      expect(created.fecha.getTime()).toBeLessThanOrEqual(after.getTime());
    });

    it('rejects an unknown or inactive user, or a bad mensaje, storing and sending nothing', async () => {
      const { user, tab } = await listener();
      const inactive = await createUser(app, { active: false });
      await expect(service.notificarUsuario(2_147_483_000, 'nobody')).rejects.toThrow(
        BadRequestException,
      );
      await expect(service.notificarUsuario(inactive, 'asleep')).rejects.toThrow(
        BadRequestException,
      );
      await expect(service.notificarUsuario(user, '')).rejects.toThrow(BadRequestException);
      await expect(service.notificarUsuario(user, 'x'.repeat(10_001))).rejects.toThrow(
        BadRequestException,
      );
      const [{ count }] = await app.dataSource.query<Array<{ count: number }>>(
        'SELECT count(*)::int AS count FROM notificaciones WHERE usuario_id = ANY($1::int[])',
        [[user.id, inactive.id]],
      );
      expect(count).toBe(0);
      await expectOnly(tab, user, []);
    });

    it('takes 10,000 code points, counted as PostgreSQL counts them', async () => {
      const user = await createUser(app);
      const created = await service.notificarUsuario(user, '🍕'.repeat(10_000));
      const [{ length }] = await app.dataSource.query<Array<{ length: number }>>(
        'SELECT char_length(mensaje) AS length FROM notificaciones WHERE id = $1',
        [created.id],
      );
      expect(length).toBe(10_000);
    });
  });

  describe('notificarUsuarios', () => {
    it('stores one per distinct user with one INSERT, in the order given', async () => {
      const a = await listener();
      const b = await listener();
      const c = await listener();
      let inserts = 0;
      const created = await app.dataSource.transaction(async (manager) => {
        const spy = jest.spyOn(manager.queryRunner!, 'query');
        try {
          return await service.notificarUsuarios([c.user, a.user.id, b.user, a.user], 'fan-out', {
            manager,
          });
        } finally {
          inserts = spy.mock.calls.filter(([sql]) => /\binsert\b/i.test(sql)).length;
          spy.mockRestore();
        }
      });
      expect(inserts).toBe(1);
      expect(created.map((n) => n.usuarioId)).toEqual([c.user.id, a.user.id, b.user.id]);
      expect(new Set(created.map((n) => n.id)).size).toBe(3);
      for (const notificacion of created) {
        expect(notificacion).toBeInstanceOf(Notificacion);
        expect(notificacion).toMatchObject({ mensaje: 'fan-out', leida: false });
      }
      // One statement, one now().
      expect(new Set(created.map((n) => n.fecha.getTime())).size).toBe(1);
      expect(created[0].toString()).toBe(`${c.user.username} - fan-out`);
      expect(created[1].toString()).toBe(`${a.user.username} - fan-out`);

      // Each user gets exactly its own, once.
      for (const [index, { user, tab }] of [c, a, b].entries()) {
        await tab.waitForMessage(created[index].id);
        await expectOnly(tab, user, [created[index].id]);
      }
    });

    it('is all or nothing: an unknown or inactive id stores and sends nothing', async () => {
      const { user, tab } = await listener();
      const inactive = await createUser(app, { active: false });
      const attempt = service.notificarUsuarios([user, inactive.id, 2_147_483_000], 'all or none');
      await expect(attempt).rejects.toThrow(BadRequestException);
      await expect(attempt).rejects.toThrow(new RegExp(`${inactive.id}.*2147483000`));
      const [{ count }] = await app.dataSource.query<Array<{ count: number }>>(
        'SELECT count(*)::int AS count FROM notificaciones WHERE usuario_id = $1',
        [user.id],
      );
      expect(count).toBe(0);
      await expectOnly(tab, user, []);
    });

    it('names the ids the caller’s own transaction made inactive', async () => {
      const kept = await createUser(app);
      const leaving = await createUser(app);
      const attempt = app.dataSource.transaction(async (manager) => {
        await manager.query('UPDATE users SET is_active = false WHERE id = $1', [leaving.id]);
        return service.notificarUsuarios([kept.id, leaving.id], 'inside', { manager });
      });
      await expect(attempt).rejects.toThrow(BadRequestException);
      await expect(attempt).rejects.toThrow(`unknown or inactive usuarios: ${leaving.id}`);
    });

    it('returns nothing for no users', async () => {
      await expect(service.notificarUsuarios([], 'nobody')).resolves.toEqual([]);
    });
  });

  describe('notificarStaff', () => {
    it('notifies every active staff user and nobody else', async () => {
      const staff = await listener({ staff: true });
      const regular = await listener();
      const inactiveStaff = await createUser(app, { staff: true, active: false });
      const created = await service.notificarStaff('para el staff');
      const recipients = created.map((n) => n.usuarioId);
      expect(recipients).toContain(staff.user.id);
      expect(recipients).not.toContain(regular.user.id);
      expect(recipients).not.toContain(inactiveStaff.id);
      expect(new Set(recipients).size).toBe(recipients.length);
      const [{ count }] = await app.dataSource.query<Array<{ count: number }>>(
        'SELECT count(*)::int AS count FROM users WHERE id = ANY($1::int[]) AND is_staff AND is_active',
        [recipients],
      );
      expect(count).toBe(recipients.length);
      const mine = created.find((n) => n.usuarioId === staff.user.id)!;
      expect(mine).toBeInstanceOf(Notificacion);
      expect(mine).toMatchObject({ mensaje: 'para el staff', leida: false });
      expect(mine.toString()).toBe(`${staff.user.username} - para el staff`);

      await staff.tab.waitForMessage(mine.id);
      await expectOnly(staff.tab, staff.user, [mine.id]);
      await expectOnly(regular.tab, regular.user, []);
    });
  });

  describe('with a transaction manager', () => {
    it('emits only after commit, and the row is invisible until then', async () => {
      const { user, tab } = await listener();
      let inside: Notificacion | undefined;
      await app.dataSource.transaction(async (manager) => {
        inside = await service.notificarUsuario(user, 'after commit', { manager });
        expect(await rowExists(inside.id)).toBe(false);
        // Nothing was emitted yet: a notification committed meanwhile arrives alone.
        await expectOnly(tab, user, []);
      });
      await tab.waitForMessage(inside!.id);
      expect(tab.all('notificacion_mensaje').at(-1)!.message).toBe('after commit');
      expect(await rowExists(inside!.id)).toBe(true);
    });

    it('never emits a rolled-back notification', async () => {
      const { user, tab } = await listener();
      let doomed: Notificacion | undefined;
      await expect(
        app.dataSource.transaction(async (manager) => {
          doomed = await service.notificarUsuario(user, 'rolled back', { manager });
          throw new Rollback();
        }),
      ).rejects.toThrow(Rollback);
      expect(doomed).toBeDefined();
      await expectOnly(tab, user, []);
      expect(await rowExists(doomed!.id)).toBe(false);
    });

    it('never emits for a transaction that failed and was "committed" anyway', async () => {
      const { user, tab } = await listener();
      let doomed: Notificacion | undefined;
      // The caller swallows an error: PostgreSQL turns the COMMIT into a ROLLBACK.
      await app.dataSource.transaction(async (manager) => {
        doomed = await service.notificarUsuario(user, 'aborted', { manager });
        await manager.query('SELECT 1 / 0').catch(() => undefined);
      });
      expect(await rowExists(doomed!.id)).toBe(false);
      await expectOnly(tab, user, []);
    });

    it('drops a rolled-back savepoint and keeps the outer commit (query runner)', async () => {
      const { user, tab } = await listener();
      const runner = app.dataSource.createQueryRunner();
      await runner.connect();
      let outer: Notificacion;
      let inner: Notificacion | undefined;
      let after: Notificacion;
      try {
        await runner.startTransaction();
        outer = await service.notificarUsuario(user, 'outer', { manager: runner.manager });
        await expect(
          runner.manager.transaction(async (nested) => {
            inner = await service.notificarUsuario(user, 'inner', { manager: nested });
            throw new Rollback();
          }),
        ).rejects.toThrow(Rollback);
        after = await service.notificarUsuario(user, 'after the savepoint', {
          manager: runner.manager,
        });
        await expectOnly(tab, user, []);
        await runner.commitTransaction();
      } finally {
        await runner.release();
      }
      await tab.waitForMessage(after.id);
      const beforeMarker = tab.ids();
      expect(beforeMarker.slice(-2)).toEqual([outer.id, after.id]);
      await expectOnly(tab, user, beforeMarker);
      expect(beforeMarker).not.toContain(inner!.id);
      expect(await rowExists(inner!.id)).toBe(false);
      expect(await rowExists(outer.id)).toBe(true);
    });

    it('drops a rolled-back savepoint inside dataSource.transaction', async () => {
      const { user, tab } = await listener();
      let inner: Notificacion | undefined;
      const outer = await app.dataSource.transaction(async (manager) => {
        const kept = await service.notificarUsuario(user, 'outer', { manager });
        await manager
          .transaction(async (nested) => {
            inner = await service.notificarUsuario(user, 'inner', { manager: nested });
            throw new Rollback();
          })
          .catch((error: unknown) => {
            if (!(error instanceof Rollback)) throw error;
          });
        return kept;
      });
      await tab.waitForMessage(outer.id);
      await expectOnly(tab, user, [outer.id]);
      expect(await rowExists(inner!.id)).toBe(false);
    });

    it('emits a released savepoint once the outer transaction commits', async () => {
      const { user, tab } = await listener();
      const [outer, inner] = await app.dataSource.transaction(async (manager) => {
        const first = await service.notificarUsuario(user, 'outer', { manager });
        const second = await manager.transaction((nested) =>
          service.notificarUsuario(user, 'inner', { manager: nested }),
        );
        // Released, but the outer transaction is still open.
        await expectOnly(tab, user, []);
        return [first, second];
      });
      await tab.waitForMessage(inner.id);
      const seen = tab.ids();
      expect(seen.slice(-2)).toEqual([outer.id, inner.id]);
      await expectOnly(tab, user, seen);
    });

    it('emits nothing when the outer transaction rolls back after a released savepoint', async () => {
      const { user, tab } = await listener();
      const created: Notificacion[] = [];
      await expect(
        app.dataSource.transaction(async (manager) => {
          created.push(await service.notificarUsuario(user, 'outer', { manager }));
          created.push(
            await manager.transaction((nested) =>
              service.notificarUsuario(user, 'inner', { manager: nested }),
            ),
          );
          throw new Rollback();
        }),
      ).rejects.toThrow(Rollback);
      await expectOnly(tab, user, []);
      expect(
        await existing(
          app.dataSource,
          created.map((n) => n.id),
        ),
      ).toEqual([]);
    });

    it('keeps successive transactions on one query runner apart', async () => {
      const { user, tab } = await listener();
      const runner = app.dataSource.createQueryRunner();
      await runner.connect();
      let kept: Notificacion;
      let dropped: Notificacion;
      try {
        await runner.startTransaction();
        dropped = await service.notificarUsuario(user, 'first, rolled back', {
          manager: runner.manager,
        });
        await runner.rollbackTransaction();
        await runner.startTransaction();
        kept = await service.notificarUsuario(user, 'second, committed', {
          manager: runner.manager,
        });
        await runner.commitTransaction();
      } finally {
        await runner.release();
      }
      await tab.waitForMessage(kept.id);
      await expectOnly(tab, user, [kept.id]);
      expect(await rowExists(dropped.id)).toBe(false);
    });

    it('applies to notificarUsuarios and notificarStaff too', async () => {
      const staff = await listener({ staff: true });
      const regular = await listener();
      await expect(
        app.dataSource.transaction(async (manager) => {
          await service.notificarUsuarios([regular.user, staff.user], 'many, rolled back', {
            manager,
          });
          await service.notificarStaff('staff, rolled back', { manager });
          throw new Rollback();
        }),
      ).rejects.toThrow(Rollback);
      await expectOnly(regular.tab, regular.user, []);
      await expectOnly(staff.tab, staff.user, []);

      const [many, forStaff] = await app.dataSource.transaction(async (manager) => [
        await service.notificarUsuarios([regular.user, staff.user], 'many', { manager }),
        await service.notificarStaff('staff', { manager }),
      ]);
      const staffOwn = forStaff.find((n) => n.usuarioId === staff.user.id)!;
      await regular.tab.waitForMessage(many[0].id);
      await staff.tab.waitForMessage(staffOwn.id);
      expect(regular.tab.ids().slice(-1)).toEqual([many[0].id]);
      expect(staff.tab.ids().slice(-2)).toEqual([many[1].id, staffOwn.id]);
    });

    it('emits at once with a manager outside any transaction', async () => {
      const { user, tab } = await listener();
      const created = await service.notificarUsuario(user, 'no transaction', {
        manager: app.dataSource.manager,
      });
      await tab.waitForMessage(created.id);
    });

    it('delivers exactly the committed ones of many concurrent transactions', async () => {
      const { user, tab } = await listener();
      // Every transaction has inserted before any of them ends, so they truly overlap; each
      // holds a pooled connection meanwhile, so stay below the pool size.
      const poolSize = (app.dataSource.options.extra as { max?: number } | undefined)?.max ?? 10;
      const count = Math.min(20, 2 * Math.floor((poolSize - 2) / 2));
      let arrive!: () => void;
      const allInserted = new Promise<void>((resolve) => (arrive = resolve));
      let inserted = 0;
      const outcomes = await Promise.allSettled(
        Array.from({ length: count }, (_, index) =>
          app.dataSource.transaction(async (manager: EntityManager) => {
            const created = await service.notificarUsuario(user, `concurrent ${index}`, {
              manager,
            });
            inserted += 1;
            if (inserted === count) arrive();
            await allInserted;
            if (index % 2 === 1) throw new Rollback(String(created.id));
            return created;
          }),
        ),
      );
      const committed = outcomes.flatMap((outcome) =>
        outcome.status === 'fulfilled' ? [outcome.value.id] : [],
      );
      const rolledBack = outcomes.flatMap((outcome) =>
        outcome.status === 'rejected' ? [Number((outcome.reason as Rollback).message)] : [],
      );
      expect(committed).toHaveLength(count / 2);
      expect(rolledBack).toHaveLength(count / 2);

      await tab.waitForCount('notificacion_mensaje', committed.length);
      const seen = tab.ids();
      expect([...seen].sort((a, b) => a - b)).toEqual([...committed].sort((a, b) => a - b));
      await expectOnly(tab, user, seen);
      expect(await existing(app.dataSource, rolledBack)).toEqual([]);
      expect(await existing(app.dataSource, committed)).toHaveLength(committed.length);
    });
  });

  describe('purgeOlderThan', () => {
    it('deletes only notifications older than N days and returns how many', async () => {
      const user = await createUser(app);
      const ids: number[] = [];
      for (const mensaje of ['ancient', 'old', 'recent', 'fresh']) {
        ids.push((await service.notificarUsuario(user, mensaje)).id);
      }
      await withPurgeLock(app.dataSource, async () => {
        await backdate(app.dataSource, [ids[0]], ANCIENT_DAYS + 10);
        await backdate(app.dataSource, [ids[1]], ANCIENT_DAYS + 1);
        await backdate(app.dataSource, [ids[2]], ANCIENT_DAYS - 1);
        await expect(service.purgeOlderThan(ANCIENT_DAYS)).resolves.toBe(2);
        await expect(service.purgeOlderThan(ANCIENT_DAYS)).resolves.toBe(0);
      });
      expect(await existing(app.dataSource, ids)).toEqual([ids[2], ids[3]]);
    });

    it('refuses 0, negative and fractional days instead of deleting everything', async () => {
      const user = await createUser(app);
      const { id } = await service.notificarUsuario(user, 'keep me');
      for (const days of [0, -1, 0.5, Number.NaN]) {
        await expect(service.purgeOlderThan(days)).rejects.toThrow(RangeError);
      }
      expect(await existing(app.dataSource, [id])).toEqual([id]);
    });
  });
});

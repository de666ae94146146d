import { BadRequestException } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import type { MetricsService } from '../metrics/metrics.service';
import { User } from '../users/user.entity';
import type { UsersService } from '../users/users.service';
import type { AfterCommit } from './after-commit';
import { encodeCursor } from './cursor';
import type { Doorbell } from './delivery/doorbell';
import type { OutboxRepository } from './delivery/outbox.repository';
import type { InboxRepository, ListedNotificacion } from './inbox.repository';
import { Notificacion } from './notificacion.entity';
import type { NotificationContent } from './notification-fields';
import type { NotificationsRepository } from './notifications.repository';
import { CATCH_UP_LIMIT, NotificationsService } from './notifications.service';

const FECHA = new Date('2025-03-06T10:30:00.000Z');

function user(id: number, username = `user${id}`): User {
  return Object.assign(new User(), { id, username, isStaff: false, isActive: true });
}

/** What a send of `mensaje` with no other field stores. */
function plain(mensaje: string): NotificationContent {
  return { mensaje, tipo: 'general', url: null, datos: null };
}

function stored(id: number, usuarioId: number, content: NotificationContent): Notificacion {
  return Object.assign(new Notificacion(), {
    id,
    usuarioId,
    usuario: user(usuarioId, `found${usuarioId}`),
    ...content,
    leida: false,
    fecha: FECHA,
  });
}

/** The service with every collaborator faked: only its rules run, no database. */
function harness(activeIds: number[] = [1, 2, 3]) {
  let nextId = 100;
  const active = new Set(activeIds);
  const repository = {
    insertOne: jest.fn((userId: number, content: NotificationContent) =>
      Promise.resolve(active.has(userId) ? stored(nextId++, userId, content) : undefined),
    ),
    insertForAll: jest.fn((ids: number[], content: NotificationContent) => {
      const ok = ids.every((id) => active.has(id));
      // Reversed: the repository promises no order.
      const created = ok ? [...ids].reverse().map((id) => stored(nextId++, id, content)) : [];
      return Promise.resolve({ created, failed: false });
    }),
    insertForStaff: jest.fn(() => Promise.resolve([] as Notificacion[])),
    insertDated: jest.fn((rows: unknown[]) => Promise.resolve(rows.length)),
    deleteOlderThan: jest.fn(() => Promise.resolve(7)),
  };
  const inbox = {
    list: jest.fn((): Promise<ListedNotificacion[]> => Promise.resolve([])),
    countUnread: jest.fn(() => Promise.resolve(4)),
    markRead: jest.fn(() => Promise.resolve({ updated: 2, unread: 3 })),
  };
  const outbox = { missedSince: jest.fn() };
  const users = {
    activeAmong: jest.fn((ids: number[]) =>
      Promise.resolve(new Set(ids.filter((id) => active.has(id)))),
    ),
  };
  const doorbell = { ring: jest.fn() };
  const queued: Array<() => void> = [];
  const afterCommit = {
    run: jest.fn((manager: EntityManager | undefined, task: () => void) =>
      manager ? queued.push(task) : task(),
    ),
  };
  const metrics = { notificationsCreated: jest.fn() };
  const service = new NotificationsService(
    repository as unknown as NotificationsRepository,
    inbox as unknown as InboxRepository,
    outbox as unknown as OutboxRepository,
    users as unknown as UsersService,
    doorbell as unknown as Doorbell,
    afterCommit as unknown as AfterCommit,
    metrics as unknown as MetricsService,
  );
  const commit = () => queued.splice(0).forEach((task) => task());
  return { service, repository, inbox, outbox, users, doorbell, metrics, commit };
}

describe('NotificationsService', () => {
  describe('notificarUsuario(s)', () => {
    it('refuses an empty or oversized mensaje before storing anything', async () => {
      const { service, repository } = harness();
      await expect(service.notificarUsuario(1, '')).rejects.toThrow(BadRequestException);
      await expect(service.notificarUsuario(1, 'x'.repeat(10_001))).rejects.toThrow(
        BadRequestException,
      );
      expect(repository.insertOne).not.toHaveBeenCalled();
    });

    it('stores a single notification, hands back the User given, and rings once', async () => {
      const { service, repository, doorbell, metrics } = harness();
      const ana = user(1, 'ana');
      const created = await service.notificarUsuario(ana, 'hola');
      expect(repository.insertOne).toHaveBeenCalledWith(1, plain('hola'));
      expect(created.usuario).toBe(ana);
      expect(String(created)).toBe('ana - hola');
      expect(doorbell.ring).toHaveBeenCalledTimes(1);
      expect(metrics.notificationsCreated).toHaveBeenCalledWith(1);
    });

    it('stores the tipo, url and datos given, and refuses bad ones before storing anything', async () => {
      const { service, repository } = harness();
      const fields = { tipo: 'pedido', url: '/pedidos/42', datos: { pedido: 42 } };
      const created = await service.notificarUsuario(1, 'hola', fields);
      expect(repository.insertOne).toHaveBeenCalledWith(1, { mensaje: 'hola', ...fields });
      expect(created).toMatchObject(fields);
      for (const bad of [{ tipo: 'Pedido' }, { url: 'javascript:x' }, { datos: [] as never }]) {
        await expect(service.notificarUsuario(1, 'hola', bad)).rejects.toThrow(BadRequestException);
        await expect(service.notificarStaff('hola', bad)).rejects.toThrow(BadRequestException);
      }
      expect(repository.insertOne).toHaveBeenCalledTimes(1);
      expect(repository.insertForStaff).not.toHaveBeenCalled();
    });

    it('gives an id-only caller the user as the INSERT found it', async () => {
      const { service } = harness();
      expect(String(await service.notificarUsuario(2, 'hola'))).toBe('found2 - hola');
    });

    it('answers 400 naming an unknown single user, and rings nothing', async () => {
      const { service, doorbell } = harness();
      await expect(service.notificarUsuario(9, 'hola')).rejects.toThrow(
        'unknown or inactive usuarios: 9',
      );
      expect(doorbell.ring).not.toHaveBeenCalled();
    });

    it('stores one per distinct user, in the order given', async () => {
      const { service, repository } = harness();
      const created = await service.notificarUsuarios([3, 1, 3, user(1, 'ana')], 'hola');
      expect(repository.insertForAll).toHaveBeenCalledWith([3, 1], plain('hola'), undefined);
      expect(created.map((item) => item.usuarioId)).toEqual([3, 1]);
      expect(created[1].usuario?.username).toBe('ana');
    });

    it('names every refused id when a fan-out stores nothing', async () => {
      const { service, users } = harness([1]);
      await expect(service.notificarUsuarios([1, 8, 9], 'hola')).rejects.toThrow(
        'unknown or inactive usuarios: 8, 9',
      );
      expect(users.activeAmong).toHaveBeenCalledWith([1, 8, 9], undefined);
    });

    it("asks which users are missing on the caller's transaction, unless the INSERT aborted it", async () => {
      const { service, repository, users } = harness([1]);
      const manager = {} as EntityManager;
      await expect(service.notificarUsuarios([1, 9], 'hola', { manager })).rejects.toThrow();
      expect(users.activeAmong).toHaveBeenLastCalledWith([1, 9], manager);
      repository.insertForAll.mockResolvedValueOnce({ created: [], failed: true });
      await expect(service.notificarUsuarios([1, 9], 'hola', { manager })).rejects.toThrow();
      expect(users.activeAmong).toHaveBeenLastCalledWith([1, 9], undefined);
    });

    it("takes a caller's transaction even for one user, and rings only after its commit", async () => {
      const { service, repository, doorbell, commit } = harness();
      const manager = {} as EntityManager;
      await service.notificarUsuario(1, 'hola', { manager });
      expect(repository.insertOne).not.toHaveBeenCalled();
      expect(repository.insertForAll).toHaveBeenCalledWith([1], plain('hola'), manager);
      expect(doorbell.ring).not.toHaveBeenCalled();
      commit();
      expect(doorbell.ring).toHaveBeenCalledTimes(1);
    });

    it('stores nothing and rings nothing for no users', async () => {
      const { service, repository, doorbell } = harness();
      expect(await service.notificarUsuarios([], 'hola')).toEqual([]);
      expect(repository.insertForAll).not.toHaveBeenCalled();
      expect(doorbell.ring).not.toHaveBeenCalled();
    });
  });

  describe('list', () => {
    it('asks one row more than the page, and gives a cursor only when more follow', async () => {
      const { service, inbox } = harness();
      const rows = [3, 2, 1].map((id) => ({
        notificacion: stored(id, 1, plain(`m${id}`)),
        position: `2025-03-06T10:30:00.00000${id}Z`,
      }));
      inbox.list.mockResolvedValueOnce(rows);
      const page = await service.list(1, { limit: 2 });
      expect(inbox.list).toHaveBeenCalledWith(1, 3, { unread: false });
      expect(page.notifications.map((item) => item.id)).toEqual([3, 2]);
      expect(page.notifications[0]).toEqual({
        id: 3,
        mensaje: 'm3',
        leida: false,
        fecha: '2025-03-06T10:30:00.000Z',
        tipo: 'general',
        url: null,
        datos: null,
      });
      expect(page.unread_count).toBe(4);
      expect(page.next_cursor).toBe(encodeCursor({ fecha: rows[1].position, id: 2 }));

      inbox.list.mockResolvedValueOnce(rows.slice(0, 2));
      expect((await service.list(1, { limit: 2, unread: true })).next_cursor).toBeNull();
      expect(inbox.list).toHaveBeenLastCalledWith(1, 3, { unread: true });
      await service.list(1, { limit: 2, unread: true, tipo: 'pedido' });
      expect(inbox.list).toHaveBeenLastCalledWith(1, 3, { unread: true, tipo: 'pedido' });
    });

    it('refuses a cursor it did not make', async () => {
      const { service } = harness();
      await expect(service.list(1, { limit: 2, cursor: 'nonsense' })).rejects.toThrow(
        BadRequestException,
      );
    });
  });

  it('markRead answers the unread left and rings the leader to recount', async () => {
    const { service, doorbell } = harness();
    expect(await service.markRead(1, [5, 6])).toEqual({ updated: 2, unread_count: 3 });
    expect(doorbell.ring).toHaveBeenCalledTimes(1);
  });

  describe('catchUp', () => {
    const row = (id: number, mensaje: string | null) => ({
      id,
      usuario_id: 1,
      mensaje,
      leida: false,
      fecha: FECHA,
    });

    it('replays up to the first row whose text did not fit, and says it was not all', async () => {
      const { service, outbox } = harness();
      outbox.missedSince.mockResolvedValueOnce([row(5, 'a'), row(6, 'b'), row(7, null)]);
      const replay = await service.catchUp(1, 4);
      expect(replay.notifications.map((item) => item.id)).toEqual([5, 6]);
      expect(replay.complete).toBe(false);
    });

    it('is complete when every missed row came, and not past the row limit', async () => {
      const { service, outbox } = harness();
      outbox.missedSince.mockResolvedValueOnce([row(5, 'a')]);
      expect((await service.catchUp(1, 4)).complete).toBe(true);
      const many = Array.from({ length: CATCH_UP_LIMIT + 1 }, (_, i) => row(i + 5, 'a'));
      outbox.missedSince.mockResolvedValueOnce(many);
      const replay = await service.catchUp(1, 4);
      expect(replay.notifications).toHaveLength(CATCH_UP_LIMIT);
      expect(replay.complete).toBe(false);
    });
  });

  describe('purgeOlderThan', () => {
    it.each([0, -1, 0.5, Number.NaN])(
      'refuses %p days instead of deleting everything',
      async (days) => {
        const { service, repository } = harness();
        await expect(service.purgeOlderThan(days)).rejects.toThrow(RangeError);
        expect(repository.deleteOlderThan).not.toHaveBeenCalled();
      },
    );

    it('deletes what is older than a whole number of days', async () => {
      const { service, repository } = harness();
      expect(await service.purgeOlderThan(30)).toBe(7);
      expect(repository.deleteOlderThan).toHaveBeenCalledWith(30);
    });
  });

  it('importMany checks every mensaje before storing any, and rings nothing', async () => {
    const { service, repository, doorbell } = harness();
    const ok = { usuarioId: 1, mensaje: 'hola', leida: true, fecha: FECHA };
    await expect(service.importMany([ok, { ...ok, mensaje: '' }])).rejects.toThrow(
      BadRequestException,
    );
    expect(repository.insertDated).not.toHaveBeenCalled();
    expect(await service.importMany([ok, ok])).toBe(2);
    expect(doorbell.ring).not.toHaveBeenCalled();
  });
});

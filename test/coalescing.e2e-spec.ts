import { BadRequestException } from '@nestjs/common';
import type { QueryConfig } from 'pg';
import { NotificationsService } from '../src/notifications/notifications.service';
import { UsersService } from '../src/users/users.service';
import { performance } from 'node:perf_hooks';
import { startApp, TestApp } from './support/app';
import { createUser, insertNotifications } from './support/fixtures';
import { closeSockets, openSocket } from './support/socket-client';
import { signToken } from './support/tokens';
import { pgPoolOf } from '../src/database/pg-pool';
import { withoutTimeouts } from '../src/database/bounded-client';

// Concurrent single notifications share INSERTs; each caller must still get exactly its own
// outcome: its row, or a 400 when its user is unknown or inactive, never someone else's.
describe('concurrent single notifications', () => {
  let app: TestApp;
  let service: NotificationsService;

  beforeAll(async () => {
    app = await startApp();
    service = app.app.get(NotificationsService);
  });
  afterEach(() => closeSockets());
  afterAll(() => app.close());

  it('answers each of many concurrent calls with its own row or its own 400', async () => {
    const active = await Promise.all(Array.from({ length: 5 }, () => createUser(app)));
    const inactive = await createUser(app, { active: false });
    const calls = Array.from({ length: 200 }, (_, index) => {
      const target =
        index % 7 === 3 ? inactive.id : index % 11 === 5 ? 2_000_000_000 : active[index % 5].id;
      return { target, mensaje: `pedido ${index}` };
    });

    const outcomes = await Promise.allSettled(
      calls.map((call) => service.notificarUsuario(call.target, call.mensaje)),
    );

    outcomes.forEach((outcome, index) => {
      const { target, mensaje } = calls[index];
      if (target === inactive.id || target === 2_000_000_000) {
        expect(outcome.status).toBe('rejected');
        const reason = (outcome as PromiseRejectedResult).reason as BadRequestException;
        expect(reason).toBeInstanceOf(BadRequestException);
        expect(reason.message).toContain(String(target));
      } else {
        expect(outcome.status).toBe('fulfilled');
        const created = (
          outcome as PromiseFulfilledResult<Awaited<ReturnType<typeof service.notificarUsuario>>>
        ).value;
        expect(created.usuarioId).toBe(target);
        expect(created.mensaje).toBe(mensaje);
      }
    });
    const stored = await app.dataSource.query<Array<{ usuario_id: number; mensaje: string }>>(
      'SELECT usuario_id, mensaje FROM notificaciones WHERE usuario_id = ANY($1::int[]) ORDER BY id',
      [[...active.map((user) => user.id), inactive.id]],
    );
    const expected = calls.filter((call) => active.some((user) => user.id === call.target));
    expect(stored.map((row) => `${row.usuario_id}:${row.mensaje}`).sort()).toEqual(
      expected.map((call) => `${call.target}:${call.mensaje}`).sort(),
    );
  });

  it('delivers each concurrent notification once, to its own user only', async () => {
    const users = await Promise.all(Array.from({ length: 4 }, () => createUser(app)));
    const tabs = await Promise.all(
      users.map((user) => openSocket(app.url, { token: signToken(user) })),
    );
    await Promise.all(tabs.map((tab) => tab.waitFor('unread_count')));

    const created = await Promise.all(
      Array.from({ length: 40 }, (_, index) =>
        service.notificarUsuario(users[index % 4], `mensaje ${index}`),
      ),
    );

    // A marker after the burst: once it is in, anything of the burst (or a duplicate) is too.
    const markers = await Promise.all(users.map((user) => service.notificarUsuario(user, 'fin')));
    await Promise.all(tabs.map((tab, index) => tab.waitForMessage(markers[index].id)));
    tabs.forEach((tab, userIndex) => {
      const received = tab.ids().filter((id) => id !== markers[userIndex].id);
      const mine = created
        .filter((notificacion) => notificacion.usuarioId === users[userIndex].id)
        .map((notificacion) => notificacion.id);
      expect([...received].sort((a, b) => a - b)).toEqual([...mine].sort((a, b) => a - b));
    });
  });

  it('delivers a fan-out larger than one emit slice to every connected recipient, once', async () => {
    // 1,200 recipients: the emits are spread over three event-loop turns.
    const rows = await app.dataSource.query<Array<{ id: number }>>(
      `INSERT INTO users (username, is_staff, is_active)
       SELECT 'fanout-' || gen_random_uuid(), false, true FROM generate_series(1, 1200)
       RETURNING id`,
    );
    const ids = rows.map((row) => row.id);
    const watched = [0, 499, 500, 1000, 1199].map((index) => ids[index]);
    const tabs = await Promise.all(
      watched.map((id) => openSocket(app.url, { token: signToken(id) })),
    );
    await Promise.all(tabs.map((tab) => tab.waitFor('unread_count')));

    const created = await service.notificarUsuarios(ids, 'aviso general');

    expect(created.map((notificacion) => notificacion.usuarioId)).toEqual(ids);
    const markers = await Promise.all(watched.map((id) => service.notificarUsuario(id, 'fin')));
    await Promise.all(tabs.map((tab, index) => tab.waitForMessage(markers[index].id)));
    tabs.forEach((tab, index) => {
      const mine = created.find((notificacion) => notificacion.usuarioId === watched[index])!;
      expect(tab.ids()).toEqual([mine.id, markers[index].id]);
    });
  });
});

// Authentication looks the user up, and every handshake counts its unread: lookups and counts
// asked while one is in flight share the next query, each caller still getting its own answer.
describe('concurrent lookups and counts', () => {
  let app: TestApp;

  beforeAll(async () => {
    app = await startApp();
  });
  afterEach(() => closeSockets());
  afterAll(() => app.close());

  /** Runs `burst` and counts the statements named `name` it sent to the pool. */
  async function statementsDuring<T>(name: string, burst: () => Promise<T>) {
    const pool = pgPoolOf(app.dataSource)!;
    const spy = jest.spyOn(pool, 'query');
    try {
      const result = await burst();
      const sent = spy.mock.calls.filter(([config]) => {
        const query = config as unknown as string | QueryConfig;
        return typeof query === 'object' && query.name === name;
      });
      return { result, statements: sent.length };
    } finally {
      spy.mockRestore();
    }
  }

  it('answers a burst of user lookups in two queries, each with its own user or none', async () => {
    const users = await Promise.all(
      Array.from({ length: 12 }, (_, i) => createUser(app, { active: i % 4 !== 0 })),
    );
    const ids = [...users.map((user) => user.id), 2_000_000_000, ...users.map((user) => user.id)];
    const lookups = app.app.get(UsersService);

    const { result, statements } = await statementsDuring('users.find-active', () =>
      Promise.all(ids.map((id) => lookups.findActive(id))),
    );

    // The first goes at once; all the others were asked while it was in flight.
    expect(statements).toBe(2);
    result.forEach((found, index) => {
      const user = users.find((candidate) => candidate.id === ids[index]);
      if (user?.isActive) expect(found).toMatchObject({ id: user.id, username: user.username });
      else expect(found).toBeNull();
    });
  });

  it('answers a burst of unread counts in a few queries, each with its own count', async () => {
    const users = await Promise.all(Array.from({ length: 6 }, () => createUser(app)));
    await Promise.all(
      users.map((user, index) =>
        insertNotifications(
          app,
          user,
          Array.from({ length: index + 1 }, (_, row) => ({ leida: row === 0 })),
        ),
      ),
    );
    const notifications = app.app.get(NotificationsService);

    const { result, statements } = await statementsDuring('notificaciones.count-unread', () =>
      Promise.all([...users, ...users].map((user) => notifications.countUnread(user.id))),
    );

    // Two go at once; the rest share a batch, each user's repeat joining its queued count (a
    // user's second count waits for its first, and may need a batch of its own).
    expect(statements).toBeLessThanOrEqual(4);
    expect(result).toEqual([0, 1, 2, 3, 4, 5, 0, 1, 2, 3, 4, 5]);
  });

  it('lets a user with a large backlog list in a burst without holding up others', async () => {
    jest.setTimeout(60_000);
    const big = await createUser(app);
    const other = await createUser(app);
    await insertNotifications(app, other, 3);
    // The test's own setup is maintenance, not a request: it may take past statement_timeout
    // on a loaded machine.
    const setup = app.dataSource.createQueryRunner();
    try {
      await withoutTimeouts(setup, async () => {
        await setup.query(
          `INSERT INTO notificaciones (usuario_id, mensaje)
           SELECT $1, 'pendiente ' || n FROM generate_series(1, 300000) AS n`,
          [big.id],
        );
        await setup.query('VACUUM ANALYZE notificaciones');
      });
    } finally {
      await setup.release();
    }
    const token = signToken(big);
    const countsUnread = (text: string) => /count\(\*\)/.test(text) && /NOT leida/.test(text);
    const pool = pgPoolOf(app.dataSource)!;
    const spy = jest.spyOn(pool, 'query');
    try {
      const lists = Array.from({ length: 300 }, async () => {
        const response = await fetch(`${app.url}/notifications/api/list/?limit=5`, {
          headers: { Authorization: `Bearer ${token}` },
        });
        return ((await response.json()) as { unread_count: number }).unread_count;
      });
      // Another user's handshake, in the middle of the burst, gets its count promptly.
      const started = performance.now();
      const tab = await openSocket(app.url, { token: signToken(other) }, { timeoutMs: 15_000 });
      const connectedMs = performance.now() - started;
      await tab.waitForUnreadCount(3, 15_000);
      const handshakeMs = performance.now() - started;

      expect(await Promise.all(lists)).toEqual(Array.from({ length: 300 }, () => 300_000));
      const counting = spy.mock.calls.filter(([config]) => {
        const query = config as unknown as string | QueryConfig;
        return countsUnread(typeof query === 'string' ? query : query.text);
      }).length;
      process.stderr.write(
        `300 lists of a 300,000-unread backlog: ${counting} counting statements; ` +
          `another user's unread_count after ${handshakeMs.toFixed(0)} ms (connected after ${connectedMs.toFixed(0)})\n`,
      );
      // One count per list would be 300 (each scanning 300,000 index entries). How many lists
      // share each count depends on how the burst spreads in time: about 30 on a quiet machine,
      // 100 with another test run beside it. Half of 300 still tells sharing from none.
      expect(counting).toBeLessThan(150);
      // Generous: on a shared machine the whole burst takes seconds, and the handshake waits
      // for its share of the event loop; what must not happen is a wait for 300 counts.
      expect(handshakeMs).toBeLessThan(10_000);
      expect(handshakeMs - connectedMs).toBeLessThan(2_000);
    } finally {
      spy.mockRestore();
    }
  });
});

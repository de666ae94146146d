import { NotificationsService } from '../src/notifications/notifications.service';
import { startApp, TestApp } from './support/app';
import { createUser, insertNotifications } from './support/fixtures';
import { markReadHttp, sendHttp } from './support/http-client';
import { closeSockets, markReadSocket, openSocket } from './support/socket-client';
import { signToken } from './support/tokens';
import { leaderHasRead, outboxDrained } from './support/delivery';

jest.setTimeout(60_000);

describe('delivery: exact catch-up and true counts (one instance)', () => {
  let app: TestApp;
  let service: NotificationsService;

  beforeAll(async () => {
    app = await startApp();
    service = app.app.get(NotificationsService);
  });

  afterEach(() => closeSockets());

  afterAll(async () => {
    await app?.close();
  });

  it("replays a caller's transaction that committed after a later notification was delivered", async () => {
    const user = await createUser(app);
    const token = signToken(user);
    const first = await openSocket(app.url, { token });

    // The transaction takes the lower id, then stays open while a later notification goes out.
    const runner = app.dataSource.createQueryRunner();
    await runner.connect();
    await runner.startTransaction();
    const early = await service.notificarUsuario(user, 'early, committed late', {
      manager: runner.manager,
    });
    const later = await service.notificarUsuario(user, 'later, committed first');
    expect(early.id).toBeLessThan(later.id);
    await first.waitForMessage(later.id);
    first.close();
    await runner.commitTransaction();
    await runner.release();
    await outboxDrained(app.dataSource);

    // The client holds `later`, the highest id it has: `early` went out after it.
    const back = await openSocket(app.url, { token, since: later.id });
    const done = await back.waitFor('catch_up');
    expect(back.ids()).toEqual([early.id]);
    expect(done).toEqual({ replayed: 1, complete: true });
  });

  it('says complete:false when more than 1,000 are pending, after replaying the oldest 1,000', async () => {
    const user = await createUser(app);
    const ids = await insertNotifications(app, user, 1005);
    await leaderHasRead(app.dataSource, ids.at(-1)!);
    const socket = await openSocket(app.url, { token: signToken(user), since: 0 });
    const done = await socket.waitFor('catch_up');
    expect(done).toEqual({ replayed: 1000, complete: false });
    expect(socket.ids()).toEqual(ids.slice(0, 1000));

    const rest = await openSocket(app.url, { token: signToken(user), since: ids[999] });
    expect(await rest.waitFor('catch_up')).toEqual({ replayed: 5, complete: true });
    expect(rest.ids()).toEqual(ids.slice(1000));
  });

  it('ends every socket on the true unread count after concurrent mark-reads (sockets and HTTP)', async () => {
    const user = await createUser(app);
    const staff = await createUser(app, { staff: true });
    const token = signToken(user);
    const tabs = await Promise.all([
      openSocket(app.url, { token }),
      openSocket(app.url, { token }),
    ]);
    for (let round = 0; round < 8; round += 1) {
      const ids = await insertNotifications(app, user, 30);
      // Overlapping subsets, at the same moment, from two tabs and the HTTP route, while a
      // third tab connects (its own unread_count races the leader's).
      const [joining] = await Promise.all([
        openSocket(app.url, { token }),
        markReadSocket(tabs[0].socket, { ids: ids.slice(0, 20) }),
        markReadSocket(tabs[1].socket, { ids: ids.slice(8, 28) }),
        markReadHttp(app, token, ids.slice(4, 24)),
        markReadSocket(tabs[0].socket, { ids: ids.slice(2, 12) }),
      ]);
      await outboxDrained(app.dataSource);
      // A notification after the counts: once it arrived, every count published before has too.
      const [barrier] = await sendHttp(app, signToken(staff), [user.id], `barrier ${round}`);
      const everyTab = [...tabs, joining];
      await Promise.all(everyTab.map((tab) => tab.waitForMessage(barrier)));
      const [{ unread }] = await app.dataSource.query<Array<{ unread: number }>>(
        'SELECT count(*)::int AS unread FROM notificaciones WHERE usuario_id = $1 AND NOT leida',
        [user.id],
      );
      // The barrier itself is unread and counted by the client, not by a count event.
      for (const tab of everyTab) expect(tab.unreadCounts.at(-1)).toBe(unread - 1);
      joining.socket.disconnect();
      await markReadHttp(app, token, [barrier]);
      await outboxDrained(app.dataSource);
    }
  });
});

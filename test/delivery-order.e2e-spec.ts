import { NotificationsPublisher } from '../src/notifications/notifications.publisher';
import { NotificationsService } from '../src/notifications/notifications.service';
import { toJson } from '../src/notifications/payloads';
import { startApp, TestApp } from './support/app';
import { createUser } from './support/fixtures';
import { closeSockets, openSocket } from './support/socket-client';
import { signToken } from './support/tokens';
import { holdDeliveryLead } from './support/delivery';

jest.setTimeout(60_000);

/**
 * An app for the enclosing `describe` that starts while no instance may lead delivery (the
 * test holds the lock): what commits waits in the outbox until `releaseLead()`.
 */
function useAppWithoutLeader(): { app: TestApp; releaseLead(): Promise<void> } {
  let release: (() => Promise<void>) | undefined;
  const handle = {
    app: {} as TestApp,
    async releaseLead() {
      const held = release;
      release = undefined;
      await held?.();
    },
  };
  beforeAll(async () => {
    release = await holdDeliveryLead();
    handle.app = await startApp({}, { lead: 'later' });
  });
  afterAll(async () => {
    closeSockets();
    await handle.releaseLead();
    await handle.app.close?.();
  });
  return handle;
}

describe('delivery: catch-up replays in the order things went out live', () => {
  // No leader while the notifications below commit: the one that then takes over reads them
  // together, several statements in one read, some of them late.
  const setup = useAppWithoutLeader();

  it('gives a reconnecting client the late rows where they went out, not after the newest', async () => {
    const { app } = setup;
    const user = await createUser(app);
    const token = signToken(user);
    const live = await openSocket(app.url, { token });
    const service = app.app.get(NotificationsService);
    const ids: number[] = [];
    // One statement each: their outbox rows are separate, so the lower ids come out late.
    for (const mensaje of ['first', 'second', 'third', 'fourth']) {
      ids.push((await service.notificarUsuario(user, mensaje)).id);
    }
    await setup.releaseLead();
    for (const id of ids) await live.waitForMessage(id, 10_000);
    const wentOut = live.ids();

    const replay = await openSocket(app.url, { token, since: 0 });
    await replay.waitFor('catch_up', () => true);
    expect(replay.ids()).toEqual(wentOut);
  });
});

describe('delivery: catch-up replays only what the leader has read', () => {
  // No leader reads while the notifications below commit.
  const setup = useAppWithoutLeader();

  // Below an id the leader has not read, a read in progress may still record a late row the
  // catch-up cannot see yet; replaying the newer one would move the client's `since` past it.
  it('keeps back what no leader has read yet, which then arrives live in order', async () => {
    const { app } = setup;
    const user = await createUser(app);
    const service = app.app.get(NotificationsService);
    const ids: number[] = [];
    for (const mensaje of ['first', 'second', 'third']) {
      ids.push((await service.notificarUsuario(user, mensaje)).id);
    }

    const tab = await openSocket(app.url, { token: signToken(user), since: 0 });
    expect(await tab.waitFor('catch_up')).toEqual({ replayed: 0, complete: true });
    expect(tab.ids()).toEqual([]);

    await setup.releaseLead();
    for (const id of ids) await tab.waitForMessage(id, 10_000);
    expect(tab.ids()).toEqual(ids);
  });
});

// A leader that dies between publishing and deleting what it published leaves it for the next
// leader, which publishes it again: to sockets that stayed connected, the same notification.
describe('delivery: once per socket that stayed connected', () => {
  let app: TestApp;

  beforeAll(async () => {
    app = await startApp();
  });

  afterAll(async () => {
    closeSockets();
    await app?.close();
  });

  it('drops a notification published again to a socket it was already sent to', async () => {
    const user = await createUser(app);
    const tab = await openSocket(app.url, { token: signToken(user) });
    await tab.waitFor('unread_count');
    const service = app.app.get(NotificationsService);
    const first = await service.notificarUsuario(user, 'published twice');
    await tab.waitForMessage(first.id);
    // What a new leader does with an outbox row its predecessor published but did not delete.
    const publisher = app.app.get(NotificationsPublisher);
    publisher.notificacion(user.id, toJson(first));
    const second = await service.notificarUsuario(user, 'published once');
    await tab.waitForMessage(second.id);
    expect(tab.ids()).toEqual([first.id, second.id]);

    // A new connection is another socket: replayed to it, once.
    const other = await openSocket(app.url, { token: signToken(user), since: 0 });
    await other.waitFor('catch_up');
    publisher.notificacion(user.id, toJson(second));
    const third = await service.notificarUsuario(user, 'after the replay');
    await other.waitForMessage(third.id);
    expect(other.ids()).toEqual([first.id, second.id, third.id]);
  });

  it('does not push again to a reconnected socket the notification its since names', async () => {
    const user = await createUser(app);
    const service = app.app.get(NotificationsService);
    const held = await service.notificarUsuario(user, 'held by the client');
    const back = await openSocket(app.url, { token: signToken(user), since: held.id });
    await back.waitFor('catch_up');
    // The successor of a leader killed after publishing `held` publishes it again.
    app.app.get(NotificationsPublisher).notificacion(user.id, toJson(held));
    const next = await service.notificarUsuario(user, 'after the reconnect');
    await back.waitForMessage(next.id);
    expect(back.ids()).toEqual([next.id]);
  });
});

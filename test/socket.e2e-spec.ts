import type { Server } from 'socket.io';
import request from 'supertest';
import { NotificationsPublisher } from '../src/notifications/notifications.publisher';
import { NotificationsService } from '../src/notifications/notifications.service';
import { User } from '../src/users/user.entity';
import { startApp, TestApp } from './support/app';
import { createUser, insertNotifications } from './support/fixtures';
import { markReadHttp, sendHttp } from './support/http-client';
import {
  closeSockets,
  connectSocket,
  disconnection,
  markReadSocket,
  openSocket,
  refusal,
  track,
} from './support/socket-client';
import { bearer, signToken } from './support/tokens';
import { leaderHasRead, outboxDrained } from './support/delivery';

// The project-level testTimeout in jest.config.js is not applied by jest; set it here.
jest.setTimeout(30_000);

const ISO_MILLIS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

/** A token with `alg: none`: header and payload, no signature. */
function unsignedToken(sub: string): string {
  const part = (value: object): string =>
    Buffer.from(JSON.stringify(value), 'utf8').toString('base64url');
  return `${part({ alg: 'none', typ: 'JWT' })}.${part({ sub, exp: Math.floor(Date.now() / 1000) + 3600 })}.`;
}

describe('Socket.IO gateway', () => {
  let app: TestApp;
  let service: NotificationsService;
  let staffToken: string;

  beforeAll(async () => {
    app = await startApp();
    service = app.app.get(NotificationsService);
    staffToken = signToken(await createUser(app, { staff: true }));
  });
  afterEach(() => closeSockets());
  afterAll(() => app.close());

  /** Creates notifications for `user` one by one (distinct ids in creation order). */
  /** Stores and waits until pushed, so a socket opened next gets them replayed, not twice. */
  async function notify(user: User, ...mensajes: string[]): Promise<number[]> {
    const ids: number[] = [];
    for (const mensaje of mensajes) ids.push((await service.notificarUsuario(user, mensaje)).id);
    await outboxDrained(app.dataSource);
    return ids;
  }

  /** The socket's own server-side rooms, read from the Socket.IO server itself. */
  async function serverRooms(socketId: string): Promise<string[]> {
    // The publisher holds the Socket.IO server; the black-box checks in the tests do the rest.
    const publisher: unknown = app.app.get(NotificationsPublisher);
    const server = (publisher as { target: Server }).target;
    const remote = (await server.fetchSockets()).find((socket) => socket.id === socketId);
    if (!remote) throw new Error(`socket ${socketId} is not on the server`);
    return [...remote.rooms].sort();
  }

  describe('handshake authentication', () => {
    it('accepts auth.token and sends the unread count', async () => {
      const user = await createUser(app);
      const tab = await openSocket(app.url, { token: signToken(user) });
      expect(tab.socket.connected).toBe(true);
      await expect(tab.waitFor('unread_count')).resolves.toStrictEqual({ unread_count: 0 });
    });

    it('accepts an Authorization: Bearer header instead of auth', async () => {
      const user = await createUser(app);
      await notify(user, 'by header');
      const tab = await openSocket(app.url, undefined, {
        extraHeaders: bearer(signToken(user)),
      });
      await expect(tab.waitFor('unread_count')).resolves.toStrictEqual({ unread_count: 1 });
      // It is really this user's socket: its notifications reach it.
      const [id] = await notify(user, 'live by header');
      await tab.waitForMessage(id);
    });

    it('accepts sub as a number', async () => {
      const user = await createUser(app);
      const tab = await openSocket(app.url, { token: signToken(user.id) });
      await expect(tab.waitFor('unread_count')).resolves.toStrictEqual({ unread_count: 0 });
    });

    const refused: Array<[string, (user: User, inactive: User) => Promise<string>]> = [
      [
        'a bad signature',
        async (user) => refusal(app.url, { token: signToken(user, { secret: 'not-the-secret' }) }),
      ],
      [
        'an expired token',
        async (user) => refusal(app.url, { token: signToken(user, { expiresIn: -60 }) }),
      ],
      [
        'a token without exp',
        async (user) => refusal(app.url, { token: signToken(user, { noExp: true }) }),
      ],
      ['alg none', async (user) => refusal(app.url, { token: unsignedToken(String(user.id)) })],
      [
        'another algorithm (HS512)',
        async (user) => refusal(app.url, { token: signToken(user, { algorithm: 'HS512' }) }),
      ],
      ['an unknown user', async () => refusal(app.url, { token: signToken('2147483000') })],
      ['a sub that is not a user id', async () => refusal(app.url, { token: signToken('admin') })],
      [
        'an inactive user',
        async (_user, inactive) => refusal(app.url, { token: signToken(inactive) }),
      ],
      ['a missing token', async () => refusal(app.url, {})],
      ['no auth at all', async () => refusal(app.url, undefined)],
      ['an empty token', async () => refusal(app.url, { token: '' })],
      ['a token that is not a JWT', async () => refusal(app.url, { token: 'not-a-jwt' })],
      [
        'a bad Bearer header',
        async () => refusal(app.url, undefined, { extraHeaders: bearer('not-a-jwt') }),
      ],
      [
        'an expired Bearer header',
        async (user) =>
          refusal(app.url, undefined, {
            extraHeaders: bearer(signToken(user, { expiresIn: -60 })),
          }),
      ],
      [
        'a bad token with a valid since',
        async (user) => refusal(app.url, { token: signToken(user, { secret: 'nope' }), since: 1 }),
      ],
      [
        'a bad token with an invalid since',
        async (user) =>
          refusal(app.url, { token: signToken(user, { secret: 'nope' }), since: 'abc' }),
      ],
    ];
    it.each(refused)('refuses %s with connect_error "unauthorized"', async (_name, attempt) => {
      const user = await createUser(app);
      const inactive = await createUser(app, { active: false });
      await expect(attempt(user, inactive)).resolves.toBe('unauthorized');
    });
  });

  describe('on connect', () => {
    it('sends unread_count with the user’s own unread total', async () => {
      const user = await createUser(app);
      const other = await createUser(app);
      const [first] = await notify(user, 'uno', 'dos', 'tres');
      await notify(other, 'not mine');
      await markReadHttp(app, signToken(user), [first]);
      const tab = await openSocket(app.url, { token: signToken(user) });
      await expect(tab.waitFor('unread_count')).resolves.toStrictEqual({ unread_count: 2 });
    });
  });

  describe('room join timing', () => {
    it('delivers a notification sent the moment connect resolves, 20 times in a row', async () => {
      const users = await Promise.all(Array.from({ length: 20 }, () => createUser(app)));
      for (const [index, user] of users.entries()) {
        const tab = await openSocket(app.url, { token: signToken(user) });
        // No waiting of any kind between `connect` and the send: that is the point.
        const [id] = await sendHttp(app, staffToken, [user.id], `right away ${index}`);
        const message = await tab.waitForMessage(id, 3000);
        expect(message.message).toBe(`right away ${index}`);
        tab.socket.close();
      }
    });

    it('delivers a notification created in-process the moment connect resolves, 50 times', async () => {
      // The tightest race: one INSERT, no HTTP round trip, against whatever the server does
      // between the handshake and the join.
      const users = await Promise.all(Array.from({ length: 50 }, () => createUser(app)));
      for (const user of users) {
        const tab = await openSocket(app.url, { token: signToken(user) });
        const created = await service.notificarUsuario(user, 'in-process right away');
        await tab.waitForMessage(created.id, 3000);
        tab.socket.close();
      }
    });

    it('delivers to a socket connected with the plain factory, listener attached after connect', async () => {
      const user = await createUser(app);
      const socket = track(await connectSocket(app.url, { token: signToken(user) }));
      const arrived = new Promise<number>((resolve) =>
        socket.once('notificacion_mensaje', (message) => resolve(message.notificacion.id)),
      );
      const [id] = await sendHttp(app, staffToken, [user.id], 'after connect');
      await expect(arrived).resolves.toBe(id);
    });
  });

  describe('notificacion_mensaje', () => {
    it('has exactly the contract’s payload', async () => {
      const user = await createUser(app);
      const token = signToken(user);
      const tab = await openSocket(app.url, { token });
      const mensaje = 'Pedido #42 listo 🍕 — ¡ñandú!';
      const [id] = await sendHttp(app, staffToken, [user.id], mensaje);
      const message = await tab.waitForMessage(id);
      const list = await request(app.url)
        .get('/notifications/api/list/')
        .set(bearer(token))
        .expect(200);
      const stored = (list.body.notifications as Array<{ id: number; fecha: string }>).find(
        (item) => item.id === id,
      );
      expect(stored).toBeDefined();
      expect(message).toStrictEqual({
        type: 'notificacion_mensaje',
        message: mensaje,
        notificacion: {
          id,
          mensaje,
          leida: false,
          fecha: stored!.fecha,
          tipo: 'general',
          url: null,
          datos: null,
        },
      });
      expect(message.notificacion.fecha).toMatch(ISO_MILLIS);
    });

    it('reaches every tab of the user exactly once, and no other user', async () => {
      const alice = await createUser(app);
      const bob = await createUser(app);
      const aliceTab1 = await openSocket(app.url, { token: signToken(alice) });
      const aliceTab2 = await openSocket(app.url, { token: signToken(alice) });
      const bobTab = await openSocket(app.url, { token: signToken(bob) });

      const [forAlice] = await sendHttp(app, staffToken, [alice.id], 'for alice');
      const [forBob] = await sendHttp(app, staffToken, [bob.id], 'for bob');
      // Each socket receives in emit order: had bob's socket got alice's notification, it would
      // have arrived before bob's own.
      await bobTab.waitForMessage(forBob);
      expect(bobTab.ids()).toEqual([forBob]);
      await aliceTab1.waitForMessage(forAlice);
      await aliceTab2.waitForMessage(forAlice);

      // One send to both: each gets only its own.
      const [bothAlice, bothBob] = await sendHttp(app, staffToken, [alice.id, bob.id], 'both');
      const [lastAlice] = await sendHttp(app, staffToken, [alice.id], 'last for alice');
      const [lastBob] = await sendHttp(app, staffToken, [bob.id], 'last for bob');
      await aliceTab1.waitForMessage(lastAlice);
      await aliceTab2.waitForMessage(lastAlice);
      await bobTab.waitForMessage(lastBob);

      // A duplicate would have arrived before the later notification.
      expect(aliceTab1.ids()).toEqual([forAlice, bothAlice, lastAlice]);
      expect(aliceTab2.ids()).toEqual([forAlice, bothAlice, lastAlice]);
      expect(bobTab.ids()).toEqual([forBob, bothBob, lastBob]);
    });
  });

  describe('unread_count sync', () => {
    it('tells every socket of the user after HTTP and socket mark-read, and no other user', async () => {
      const alice = await createUser(app);
      const bob = await createUser(app);
      const [a1, a2] = await notify(alice, 'a1', 'a2', 'a3');
      await notify(bob, 'b1');
      const tab1 = await openSocket(app.url, { token: signToken(alice) });
      const tab2 = await openSocket(app.url, { token: signToken(alice) });
      const bobTab = await openSocket(app.url, { token: signToken(bob) });
      for (const tab of [tab1, tab2]) {
        await expect(tab.waitFor('unread_count')).resolves.toStrictEqual({ unread_count: 3 });
      }
      await expect(bobTab.waitFor('unread_count')).resolves.toStrictEqual({ unread_count: 1 });

      // By HTTP.
      await expect(markReadHttp(app, signToken(alice), [a1])).resolves.toStrictEqual({
        updated: 1,
        unread_count: 2,
      });
      for (const tab of [tab1, tab2]) {
        expect((await tab.waitForCount('unread_count', 2))[1]).toStrictEqual({ unread_count: 2 });
      }

      // By socket, from one tab: both tabs hear it.
      await expect(markReadSocket(tab2.socket, { ids: [a2] })).resolves.toStrictEqual({
        updated: 1,
        unread_count: 1,
      });
      for (const tab of [tab1, tab2]) {
        expect((await tab.waitForCount('unread_count', 3))[2]).toStrictEqual({ unread_count: 1 });
      }

      // `[]` marks all.
      await expect(markReadSocket(tab1.socket, { ids: [] })).resolves.toStrictEqual({
        updated: 1,
        unread_count: 0,
      });
      for (const tab of [tab1, tab2]) {
        expect((await tab.waitForCount('unread_count', 4))[3]).toStrictEqual({ unread_count: 0 });
      }

      // Bob's own mark-read comes after all of alice's: had any of hers reached him, it would
      // be before this one.
      await markReadHttp(app, signToken(bob), []);
      await bobTab.waitForCount('unread_count', 2);
      expect(bobTab.all('unread_count')).toStrictEqual([{ unread_count: 1 }, { unread_count: 0 }]);

      // And bob's never reached alice: her next count follows her own action.
      const [a4] = await notify(alice, 'a4');
      await markReadHttp(app, signToken(alice), [a4]);
      for (const tab of [tab1, tab2]) {
        await tab.waitForCount('unread_count', 5);
        expect(tab.all('unread_count').map((event) => event.unread_count)).toEqual([3, 2, 1, 0, 0]);
      }
    });
  });

  describe('mark_read', () => {
    it('acknowledges {updated, unread_count} and ignores other users’ ids', async () => {
      const alice = await createUser(app);
      const bob = await createUser(app);
      const [mine, alsoMine] = await notify(alice, 'mine', 'also mine');
      const [his] = await notify(bob, 'his');
      const tab = await openSocket(app.url, { token: signToken(alice) });
      const bobTab = await openSocket(app.url, { token: signToken(bob) });
      await bobTab.waitFor('unread_count');

      await expect(markReadSocket(tab.socket, { ids: [his, mine] })).resolves.toStrictEqual({
        updated: 1,
        unread_count: 1,
      });
      await expect(markReadSocket(tab.socket, { ids: [his] })).resolves.toStrictEqual({
        updated: 0,
        unread_count: 1,
      });
      // Marking an already read one again changes nothing.
      await expect(markReadSocket(tab.socket, { ids: [mine] })).resolves.toStrictEqual({
        updated: 0,
        unread_count: 1,
      });

      const bobList = await request(app.url)
        .get('/notifications/api/list/')
        .set(bearer(signToken(bob)))
        .expect(200);
      expect(bobList.body.notifications).toEqual([
        expect.objectContaining({ id: his, leida: false }),
      ]);
      expect(bobList.body.unread_count).toBe(1);
      // Bob's socket never heard of alice's mark-reads: his own comes first.
      await markReadHttp(app, signToken(bob), [his]);
      await bobTab.waitForCount('unread_count', 2);
      expect(bobTab.all('unread_count')).toStrictEqual([{ unread_count: 1 }, { unread_count: 0 }]);

      const aliceList = await request(app.url)
        .get('/notifications/api/list/')
        .set(bearer(signToken(alice)))
        .expect(200);
      expect(aliceList.body.notifications).toEqual([
        expect.objectContaining({ id: alsoMine, leida: false }),
        expect.objectContaining({ id: mine, leida: true }),
      ]);
    });

    const invalid: Array<[string, unknown]> = [
      ['a string', 'ids'],
      ['a number', 42],
      ['null', null],
      ['an array', [1, 2]],
      ['an object without ids', {}],
      ['ids not an array', { ids: '1' }],
      ['ids an object', { ids: { 0: 1 } }],
      ['ids with a string', { ids: ['1'] }],
      ['ids with a negative number', { ids: [-1] }],
      ['ids with zero', { ids: [0] }],
      ['ids with a fraction', { ids: [1.5] }],
      ['ids with null', { ids: [null] }],
      ['ids beyond 2^53', { ids: [2 ** 53] }],
      ['more than 1000 ids', { ids: Array.from({ length: 1001 }, (_, index) => index + 1) }],
      ['an unknown field', { ids: [1], room: 'user_1' }],
    ];
    it.each(invalid)(
      'acknowledges an error for %s and keeps the socket open',
      async (_name, body) => {
        const user = await createUser(app);
        const [id] = await notify(user, 'still unread');
        const tab = await openSocket(app.url, { token: signToken(user) });
        const ack = await markReadSocket(tab.socket, body);
        expect(ack).toStrictEqual({ error: expect.any(String) });
        expect((ack as { error: string }).error.length).toBeGreaterThan(0);
        // Nothing was marked, and the socket still works.
        await expect(markReadSocket(tab.socket, { ids: [id] })).resolves.toStrictEqual({
          updated: 1,
          unread_count: 0,
        });
        expect(tab.socket.connected).toBe(true);
      },
    );

    it('accepts exactly 1000 ids', async () => {
      const user = await createUser(app);
      const [id] = await notify(user, 'one of many');
      const tab = await openSocket(app.url, { token: signToken(user) });
      const ids = [id, ...Array.from({ length: 999 }, (_, index) => 2_000_000_000 + index)];
      await expect(markReadSocket(tab.socket, { ids })).resolves.toStrictEqual({
        updated: 1,
        unread_count: 0,
      });
    });

    it('survives a mark_read without an acknowledgement', async () => {
      const user = await createUser(app);
      const [id] = await notify(user, 'x');
      const tab = await openSocket(app.url, { token: signToken(user) });
      (tab.socket as unknown as { emit(event: string, body: unknown): void }).emit(
        'mark_read',
        'not even an object',
      );
      await expect(markReadSocket(tab.socket, { ids: [id] })).resolves.toStrictEqual({
        updated: 1,
        unread_count: 0,
      });
    });
  });

  describe('rooms', () => {
    it('ignores attempts to join or address another user’s room', async () => {
      const alice = await createUser(app);
      const bob = await createUser(app);
      const bobRoom = `user_${bob.id}`;
      const tab = await openSocket(app.url, { token: signToken(alice) });
      const bobTab = await openSocket(app.url, { token: signToken(bob) });
      const untyped = tab.socket as unknown as { emit(event: string, ...args: unknown[]): void };
      untyped.emit('join', bobRoom);
      untyped.emit('join', { room: bobRoom });
      untyped.emit('subscribe', bobRoom);
      untyped.emit('subscribe', { room: bobRoom, userId: bob.id });
      untyped.emit('joinRoom', bobRoom);
      untyped.emit('join_room', bobRoom);
      untyped.emit('room', bobRoom);
      untyped.emit('notificacion_mensaje', { to: bobRoom, message: 'spoof' });
      untyped.emit('unread_count', { to: bobRoom, unread_count: 99 });
      // Packets of one socket are handled in order: this ack means all of the above were seen.
      await expect(markReadSocket(tab.socket, { ids: [] })).resolves.toStrictEqual({
        updated: 0,
        unread_count: 0,
      });

      expect(await serverRooms(tab.socket.id!)).toEqual([tab.socket.id, `user_${alice.id}`].sort());

      const [forBob] = await sendHttp(app, staffToken, [bob.id], 'for bob only');
      const [forAlice] = await sendHttp(app, staffToken, [alice.id], 'for alice');
      await tab.waitForMessage(forAlice);
      expect(tab.ids()).toEqual([forAlice]);
      await bobTab.waitForMessage(forBob);
      // Nothing alice emitted reached bob.
      expect(bobTab.ids()).toEqual([forBob]);
      expect(bobTab.all('unread_count')).toStrictEqual([{ unread_count: 0 }]);
    });

    it('puts the socket in its own room whatever else the handshake names', async () => {
      const alice = await createUser(app);
      const bob = await createUser(app);
      const bobRoom = `user_${bob.id}`;
      const tab = await openSocket(
        app.url,
        { token: signToken(alice), room: bobRoom, userId: bob.id, usuario: bob.id, sub: bob.id },
        { query: { room: bobRoom, userId: String(bob.id) } },
      );
      expect(await serverRooms(tab.socket.id!)).toEqual([tab.socket.id, `user_${alice.id}`].sort());
      const [forBob] = await sendHttp(app, staffToken, [bob.id], 'for bob');
      const [forAlice] = await sendHttp(app, staffToken, [alice.id], 'for alice');
      await tab.waitForMessage(forAlice);
      // Bob's came first: had it reached this socket, it would be before alice's.
      expect(tab.ids()).toEqual([forAlice]);
      expect(forBob).toBeLessThan(forAlice);
    });
  });

  describe('catch-up', () => {
    it('replays every later notification of the user, oldest first, and nobody else’s', async () => {
      const user = await createUser(app);
      const other = await createUser(app);
      const [seen] = await notify(user, 'seen');
      const [otherOne] = await notify(other, 'not yours');
      const [two, three] = await notify(user, 'two', 'three');
      const [otherTwo] = await notify(other, 'not yours either');
      const [four] = await notify(user, 'four');
      await markReadHttp(app, signToken(user), [three]);
      expect(Math.max(otherOne, otherTwo)).toBeGreaterThan(seen);

      const tab = await openSocket(app.url, { token: signToken(user), since: seen });
      await expect(tab.waitFor('catch_up')).resolves.toStrictEqual({ replayed: 3, complete: true });
      // The replay comes before catch_up says it is over.
      expect(tab.eventNames().filter((name) => name !== 'unread_count')).toEqual([
        'notificacion_mensaje',
        'notificacion_mensaje',
        'notificacion_mensaje',
        'catch_up',
      ]);
      // A live one afterwards arrives after the replay, and proves nothing else was queued.
      const [five] = await notify(user, 'five');
      await tab.waitForMessage(five);
      expect(tab.ids()).toEqual([two, three, four, five]);
      expect(tab.all('notificacion_mensaje')[0]).toStrictEqual({
        type: 'notificacion_mensaje',
        message: 'two',
        notificacion: {
          id: two,
          mensaje: 'two',
          leida: false,
          fecha: expect.stringMatching(ISO_MILLIS),
          tipo: 'general',
          url: null,
          datos: null,
        },
      });
      expect(tab.all('notificacion_mensaje')[2].message).toBe('four');
    });

    it('accepts since as a numeric string, and 0 for everything', async () => {
      const user = await createUser(app);
      const [first, second] = await notify(user, 'first', 'second');
      const fromFirst = await openSocket(app.url, { token: signToken(user), since: String(first) });
      const fromZero = await openSocket(app.url, { token: signToken(user), since: 0 });
      await fromFirst.waitForMessage(second);
      await fromZero.waitForCount('notificacion_mensaje', 2);
      const [third] = await notify(user, 'third');
      await fromFirst.waitForMessage(third);
      await fromZero.waitForMessage(third);
      expect(fromFirst.ids()).toEqual([second, third]);
      expect(fromZero.ids()).toEqual([first, second, third]);
    });

    it('replays nothing without since, and sends no catch_up', async () => {
      const user = await createUser(app);
      await notify(user, 'old');
      const tab = await openSocket(app.url, { token: signToken(user) });
      const [fresh] = await notify(user, 'fresh');
      await tab.waitForMessage(fresh);
      expect(tab.ids()).toEqual([fresh]);
      expect(tab.all('catch_up')).toEqual([]);
    });

    it('says complete after replaying nothing, when nothing is pending', async () => {
      const user = await createUser(app);
      const [last] = await notify(user, 'last');
      const tab = await openSocket(app.url, { token: signToken(user), since: last });
      await expect(tab.waitFor('catch_up')).resolves.toStrictEqual({ replayed: 0, complete: true });
      expect(tab.ids()).toEqual([]);
    });

    it('stops at 1 MiB of text, the oldest first, and says more are pending', async () => {
      const user = await createUser(app);
      // 300 of 10,000 two-byte characters: about 5.7 MiB of text, far over one catch-up.
      const ids = await insertNotifications(
        app,
        user,
        Array.from({ length: 300 }, (_, index) => ({
          mensaje: 'ñ'.repeat(9_990) + String(index).padStart(3, '0'),
        })),
      );
      await leaderHasRead(app.dataSource, ids.at(-1)!);
      const tab = await openSocket(app.url, { token: signToken(user), since: 0 });
      const done = await tab.waitFor('catch_up', () => true, 20_000);
      expect(done.complete).toBe(false);
      // Rows go whole, while the text before each stays under 1 MiB.
      const rowBytes = Buffer.byteLength('ñ'.repeat(9_990) + '000');
      expect(done.replayed).toBe(Math.ceil((1024 * 1024) / rowBytes));
      expect(tab.ids()).toEqual(ids.slice(0, done.replayed));
    });

    it('replays at most 1000, the oldest first', async () => {
      const user = await createUser(app);
      const rows = await app.dataSource.query<Array<{ id: string }>>(
        `INSERT INTO notificaciones (usuario_id, mensaje)
         SELECT $1, 'bulk ' || n FROM generate_series(1, 1005) AS n
         RETURNING id`,
        [user.id],
      );
      const ids = rows.map((row) => Number(row.id)).sort((a, b) => a - b);
      await leaderHasRead(app.dataSource, ids.at(-1)!);
      const tab = await openSocket(app.url, { token: signToken(user), since: 0 });
      await expect(tab.waitFor('catch_up', () => true, 20_000)).resolves.toStrictEqual({
        replayed: 1000,
        complete: false,
      });
      const [live] = await notify(user, 'after the replay');
      await tab.waitForMessage(live);
      expect(tab.ids()).toEqual([...ids.slice(0, 1000), live]);
      await expect(tab.waitFor('unread_count')).resolves.toStrictEqual({ unread_count: 1005 });
    });

    it('misses nothing created while it catches up', async () => {
      const user = await createUser(app);
      const [since] = await notify(user, 'seen');
      const before = await notify(user, ...Array.from({ length: 30 }, (_, i) => `before ${i}`));
      const connecting = openSocket(app.url, { token: signToken(user), since });
      const during = await notify(user, ...Array.from({ length: 30 }, (_, i) => `during ${i}`));
      const tab = await connecting;
      const after = await notify(user, 'after');
      const expected = [...before, ...during, ...after];
      await tab.waitFor('notificacion_mensaje', () => {
        const got = new Set(tab.ids());
        return expected.every((id) => got.has(id));
      });
      // Duplicates around the switch are allowed; strangers are not.
      expect(new Set(tab.ids())).toEqual(new Set(expected));
    });

    const badSince: Array<[string, unknown]> = [
      ['"abc"', 'abc'],
      ['-1', -1],
      ['1.5', 1.5],
      ['"12abc"', '12abc'],
      ['an empty string', ''],
      ['true', true],
      ['an object', { id: 1 }],
    ];
    it.each(badSince)('refuses since %s with connect_error', async (_name, since) => {
      const user = await createUser(app);
      const message = await refusal(app.url, {
        token: signToken(user),
        since: since as number,
      });
      expect(message.length).toBeGreaterThan(0);
    });
  });

  describe('token expiry', () => {
    it('disconnects the socket when its token expires, not before', async () => {
      const user = await createUser(app);
      const token = signToken(user, { expiresIn: 2 });
      const exp = (
        JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString()) as { exp: number }
      ).exp;
      const tab = await openSocket(app.url, { token });
      const { reason, at } = await disconnection(tab.socket, 10_000);
      expect(reason).toBe('io server disconnect');
      expect(at).toBeGreaterThanOrEqual(exp * 1000);
      // And the same token cannot come back.
      await expect(refusal(app.url, { token })).resolves.toBe('unauthorized');
    });
  });
});

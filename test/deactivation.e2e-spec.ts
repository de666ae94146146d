import { DataSource } from 'typeorm';
import { openTestDatabase } from './support/database';
import { createUser, insertNotifications } from './support/fixtures';
import { closeSockets, openSocket, RecordedSocket } from './support/socket-client';
import { signToken } from './support/tokens';
import { ServiceProcess } from './support/service-process';

/** The contract's bound: a deactivated user's sockets are gone within 5 seconds. */
const DISCONNECT_WITHIN_MS = 5_000;

/** Resolves with the time the socket was disconnected by the server. */
function disconnectedAt(tab: RecordedSocket): Promise<number> {
  return new Promise((resolve) => {
    tab.socket.once('disconnect', (reason) => {
      if (reason === 'io server disconnect') resolve(Date.now());
    });
  });
}

/** `mark_read`'s acknowledgement, or how it failed to come. */
async function markAllRead(tab: RecordedSocket): Promise<unknown> {
  try {
    return await tab.socket.timeout(5_000).emitWithAck('mark_read', { ids: [] });
  } catch (error) {
    return (error as Error).message;
  }
}

/**
 * Deactivation by a plain SQL write, from outside the service process (as the CLI, the host
 * application or an administrator would): nothing tells the service, and still it must act.
 */
describe('a user deactivated or deleted while connected (service process)', () => {
  let database: DataSource;
  let service: ServiceProcess;

  beforeAll(async () => {
    database = await openTestDatabase();
    service = await ServiceProcess.start({
      DATABASE_URL: process.env.DATABASE_URL,
      JWT_SECRET: process.env.JWT_SECRET,
    });
  }, 30_000);
  afterEach(() => closeSockets());
  afterAll(async () => {
    await ServiceProcess.disposeAll();
    await database?.destroy();
  });

  async function unread(userId: number): Promise<number> {
    const [{ count }] = await database.query<Array<{ count: number }>>(
      'SELECT count(*)::int AS count FROM notificaciones WHERE usuario_id = $1 AND NOT leida',
      [userId],
    );
    return count;
  }

  it('loses every open socket within 5 s, and its mark_read is refused at once', async () => {
    const [gone, kept] = await Promise.all([createUser(database), createUser(database)]);
    await insertNotifications(database, gone, 2);
    const tabs = await Promise.all(
      [1, 2].map(() => openSocket(service.url, { token: signToken(gone) })),
    );
    const bystander = await openSocket(service.url, { token: signToken(kept) });
    await Promise.all([...tabs, bystander].map((tab) => tab.waitFor('unread_count')));
    const disconnects = tabs.map(disconnectedAt);

    const deactivated = Date.now();
    await database.query('UPDATE users SET is_active = false WHERE id = $1', [gone.id]);
    // Refused without waiting for the next check: an error, or the socket closed under it.
    expect(['socket has been disconnected', { error: 'unauthorized' }]).toContainEqual(
      await markAllRead(tabs[0]),
    );
    expect(await unread(gone.id)).toBe(2);

    const times = await Promise.race([
      Promise.all(disconnects),
      new Promise<never>((_resolve, reject) =>
        setTimeout(
          () => reject(new Error('a socket of the deactivated user is still connected')),
          DISCONNECT_WITHIN_MS + 1_000,
        ),
      ),
    ]);
    for (const time of times) expect(time - deactivated).toBeLessThan(DISCONNECT_WITHIN_MS);

    // Another user's socket is untouched, and a new handshake of the inactive user is refused.
    expect(bystander.socket.connected).toBe(true);
    expect(await markAllRead(bystander)).toEqual({ updated: 0, unread_count: 0 });
    await expect(openSocket(service.url, { token: signToken(gone) })).rejects.toThrow(
      'unauthorized',
    );
  }, 20_000);

  it('loses its sockets when the user row is deleted', async () => {
    const gone = await createUser(database);
    const tab = await openSocket(service.url, { token: signToken(gone) });
    await tab.waitFor('unread_count');
    const disconnect = disconnectedAt(tab);
    const deleted = Date.now();
    await database.query('DELETE FROM users WHERE id = $1', [gone.id]);
    const time = await Promise.race([
      disconnect,
      new Promise<never>((_resolve, reject) =>
        setTimeout(() => reject(new Error('still connected')), DISCONNECT_WITHIN_MS + 1_000),
      ),
    ]);
    expect(time - deleted).toBeLessThan(DISCONNECT_WITHIN_MS);
  }, 20_000);

  it('stops its checks on shutdown: SIGTERM ends the process promptly', async () => {
    const other = await ServiceProcess.start({
      DATABASE_URL: process.env.DATABASE_URL,
      JWT_SECRET: process.env.JWT_SECRET,
    });
    const user = await createUser(database);
    const tab = await openSocket(other.url, { token: signToken(user) });
    await tab.waitFor('unread_count');
    const started = Date.now();
    const exit = await other.stop('SIGTERM', 15_000);
    expect(exit.code === 0 || exit.signal === 'SIGTERM').toBe(true);
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(other.output()).not.toMatch(/Deactivation check failed/);
  }, 30_000);
});

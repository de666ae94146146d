import { Server } from 'socket.io';
import type { MetricsService } from '../metrics/metrics.service';
import type { NotificacionJson } from './events';
import { NotificationsPublisher } from './notifications.publisher';

const NOTIFICACION: NotificacionJson = {
  id: 7,
  mensaje: 'hola',
  leida: false,
  fecha: '2025-03-06T10:30:00.000Z',
  tipo: 'general',
  url: null,
  datos: null,
};

function harness(server?: Server) {
  const metrics = { emitted: jest.fn() };
  const publisher = new NotificationsPublisher(
    metrics as unknown as MetricsService,
    undefined,
    server,
  );
  return { publisher, metrics };
}

describe('NotificationsPublisher', () => {
  let server: Server;
  beforeEach(() => {
    // Never attached to an HTTP server (nothing to close): rooms and emits work on the
    // in-memory adapter alone.
    server = new Server();
  });

  it('has nothing to emit to where no server is bound (the command line)', () => {
    const { publisher, metrics } = harness();
    expect(publisher.hasSockets).toBe(false);
    publisher.notificacion(1, NOTIFICACION);
    expect(metrics.emitted).not.toHaveBeenCalled();
  });

  it("emits the contract's payload to the user's room", () => {
    const { publisher, metrics } = harness(server);
    server.of('/').adapter.rooms.set('user_1', new Set(['a']));
    const emit = jest.fn();
    const to = jest.spyOn(server, 'to').mockReturnValue({ emit } as never);
    publisher.notificacion(1, NOTIFICACION);
    publisher.unreadCount(1, 3);
    expect(to).toHaveBeenCalledWith('user_1');
    expect(emit).toHaveBeenNthCalledWith(1, 'notificacion_mensaje', {
      type: 'notificacion_mensaje',
      message: 'hola',
      notificacion: NOTIFICACION,
    });
    expect(emit).toHaveBeenNthCalledWith(2, 'unread_count', { unread_count: 3 });
    expect(metrics.emitted).toHaveBeenCalledTimes(2);
  });

  it('skips encoding for a room with no socket on a single instance, but counts the emit', () => {
    const { publisher, metrics } = harness(server);
    const to = jest.spyOn(server, 'to');
    publisher.notificacion(2, NOTIFICACION);
    expect(to).not.toHaveBeenCalled();
    expect(metrics.emitted).toHaveBeenCalledWith('notificacion_mensaje');
  });

  it('survives an emit that throws: the database has the row', () => {
    const { publisher } = harness(server);
    server.of('/').adapter.rooms.set('user_1', new Set(['a']));
    jest.spyOn(server, 'to').mockImplementation(() => {
      throw new Error('boom');
    });
    expect(() => publisher.unreadCount(1, 0)).not.toThrow();
  });

  it('replays a catch-up to one socket, then says how many and whether that was all', () => {
    const { publisher } = harness(server);
    const socket = { emit: jest.fn() };
    publisher.replay(socket, { notifications: [NOTIFICACION], complete: false });
    expect(socket.emit.mock.calls).toEqual([
      [
        'notificacion_mensaje',
        { type: 'notificacion_mensaje', message: 'hola', notificacion: NOTIFICACION },
      ],
      ['catch_up', { replayed: 1, complete: false }],
    ]);
  });

  it('never holds a fan-out back without Redis', async () => {
    const { publisher } = harness(server);
    await expect(publisher.paced(() => true)).resolves.toBeUndefined();
  });
});

import { INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import request from 'supertest';
import { DataSource } from 'typeorm';
import { AppModule } from '../examples/host-app/src/app.module';
import { PedidosService } from '../examples/host-app/src/pedidos/pedidos.service';
import { NotificationsSocketAdapter } from '../src';
import { DeliveryLeader } from '../src/notifications/delivery/delivery-leader';
import { createTestDatabase } from './support/database';
import { createUser } from './support/fixtures';
import { closeSockets, openSocket } from './support/socket-client';
import { bearer, signToken } from './support/tokens';
import { waitFor } from './support/wait';

jest.setTimeout(60_000);

/**
 * The example host app (examples/host-app): NotificationsModule on the host's own TypeORM
 * connection, its migrations run with the host's, and a host service that notifies inside its
 * own transactions. On a database of its own: the host leads delivery there, alone.
 */
describe('a host NestJS app (examples/host-app)', () => {
  let database: Awaited<ReturnType<typeof createTestDatabase>>;
  let app: INestApplication;
  let url: string;
  let dataSource: DataSource;
  let pedidos: PedidosService;

  beforeAll(async () => {
    database = await createTestDatabase();
    const moduleRef = await Test.createTestingModule({
      imports: [
        AppModule.register({
          databaseUrl: database.database.url,
          jwtSecret: process.env.JWT_SECRET!,
        }),
      ],
    }).compile();
    app = moduleRef.createNestApplication({ logger: ['error'] });
    app.useWebSocketAdapter(new NotificationsSocketAdapter(app));
    await app.listen(0, '127.0.0.1');
    url = `http://127.0.0.1:${(app.getHttpServer().address() as { port: number }).port}`;
    dataSource = app.get(DataSource);
    pedidos = app.get(PedidosService);
    const leader = app.get(DeliveryLeader);
    await waitFor('the host app to lead delivery', () => leader.isLeading, { timeoutMs: 10_000 });
  });
  afterEach(() => closeSockets());
  afterAll(async () => {
    await app?.close();
    await database?.stop();
  });

  it("ran the host's migrations and the shipped ones on the host's connection", async () => {
    const applied = await dataSource.query<Array<{ name: string }>>(
      'SELECT name FROM migrations ORDER BY timestamp',
    );
    expect(applied.map(({ name }) => name)).toEqual([
      'InitialSchema1764115200000',
      'DeliveryOutbox1764979200000',
      'CreatePedidos1765000000000',
      'NotificationKinds1765584000000',
      'DeletionsOutbox1765670400000',
      'IdempotencyKeys1765756800000',
      'Preferences1765843200000',
      'CheapChecks1765929600000',
      'DeliveryProgress1766016000000',
    ]);
  });

  it('pushes a committed order’s notification, and nothing (no row either) for a rolled-back one', async () => {
    const user = await createUser(dataSource);
    const tab = await openSocket(url, { token: signToken(user) });
    await tab.waitFor('unread_count');

    const placed = await pedidos.crear(user.id, `A-${user.id}`);
    await expect(tab.waitForMessage(placed.notificacion.id)).resolves.toMatchObject({
      message: `Pedido A-${user.id} recibido`,
    });

    // The same reference again: the order's insert fails after the notification was written.
    await expect(pedidos.crear(user.id, `A-${user.id}`)).rejects.toThrow(/duplicate key/);

    // A later committed order is pushed after anything the rolled-back one could have pushed.
    const marker = await pedidos.crear(user.id, `B-${user.id}`);
    await tab.waitForMessage(marker.notificacion.id);
    expect(tab.ids()).toEqual([placed.notificacion.id, marker.notificacion.id]);

    const rows = await dataSource.query<Array<{ mensaje: string }>>(
      'SELECT mensaje FROM notificaciones WHERE usuario_id = $1 ORDER BY id',
      [user.id],
    );
    expect(rows.map(({ mensaje }) => mensaje)).toEqual([
      `Pedido A-${user.id} recibido`,
      `Pedido B-${user.id} recibido`,
    ]);
    const orders = await dataSource.query<Array<{ referencia: string }>>(
      'SELECT referencia FROM pedidos WHERE usuario_id = $1 ORDER BY id',
      [user.id],
    );
    expect(orders.map(({ referencia }) => referencia)).toEqual([`A-${user.id}`, `B-${user.id}`]);
  });

  it('mounts the REST routes, validated, and none of the standalone service’s others', async () => {
    const user = await createUser(dataSource);
    await pedidos.crear(user.id, `C-${user.id}`);
    const token = signToken(user);
    const list = await request(url).get('/notifications/api/list').set(bearer(token)).expect(200);
    expect(list.body).toMatchObject({ unread_count: 1 });
    expect(list.body.notifications.map((n: { mensaje: string }) => n.mensaje)).toEqual([
      `Pedido C-${user.id} recibido`,
    ]);
    // The module's own validation, though the host binds no pipe.
    await request(url)
      .post('/notifications/api/mark-read')
      .set(bearer(token))
      .send({ ids: 'all', extra: 1 })
      .expect(400);
    await request(url).get('/notifications/api/list').expect(401);
    for (const path of ['/health', '/metrics', '/docs-json', '/demo/users']) {
      await request(url).get(path).expect(404);
    }
  });
});

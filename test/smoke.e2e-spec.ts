import request from 'supertest';
import {
  bearer,
  connectSocket,
  createUser,
  nextEvent,
  signToken,
  startApp,
  TestApp,
} from './factories';

describe('smoke', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startApp();
  });
  afterAll(() => app.close());

  it('lists and delivers', async () => {
    const user = await createUser(app);
    const staff = await createUser(app, { staff: true });
    const socket = await connectSocket(app.url, { token: signToken(user) });
    const arrived = nextEvent(socket, 'notificacion_mensaje');
    await request(app.url)
      .post('/notifications/api/send/')
      .set(bearer(signToken(staff)))
      .send({ usuarios: [user.id], mensaje: 'hola' })
      .expect(201);
    expect((await arrived).message).toBe('hola');
    const list = await request(app.url)
      .get('/notifications/api/list/')
      .set(bearer(signToken(user)))
      .expect(200);
    expect(list.body.unread_count).toBe(1);
    socket.close();
  });
});

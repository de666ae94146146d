import request from 'supertest';
import type { TestApp } from './app';
import { bearer } from './tokens';

/** `POST /notifications/api/send/` as a staff user; the created ids, in the order of `usuarios`. */
export async function sendHttp(
  app: TestApp,
  staffToken: string,
  usuarios: number[],
  mensaje: string,
): Promise<number[]> {
  const response = await request(app.url)
    .post('/notifications/api/send/')
    .set(bearer(staffToken))
    .send({ usuarios, mensaje })
    .expect(201);
  return response.body.ids as number[];
}

/** `POST /notifications/api/mark-read/`; the response body. */
export async function markReadHttp(
  app: TestApp,
  token: string,
  ids: number[],
): Promise<{ updated: number; unread_count: number }> {
  const response = await request(app.url)
    .post('/notifications/api/mark-read/')
    .set(bearer(token))
    .send({ ids })
    .expect(200);
  return response.body as { updated: number; unread_count: number };
}

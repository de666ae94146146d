import { DumpError, readDumpRecord } from './django-records';

const user = (fields: object, pk: unknown = 7) => ({ model: 'auth.user', pk, fields });
const notificacion = (fields: object, pk: unknown = 101) => ({
  model: 'notifications.notificacion',
  pk,
  fields: {
    usuario: 7,
    mensaje: 'hola',
    leida: false,
    fecha: '2025-03-06T10:30:00.123Z',
    ...fields,
  },
});

describe('readDumpRecord', () => {
  it('keeps a user’s id, username and flags, and nothing else', () => {
    expect(
      readDumpRecord(
        user({ username: 'ana', is_staff: true, is_active: false, password: 'x', email: 'a@b' }),
        0,
      ),
    ).toEqual({ kind: 'user', id: 7, username: 'ana', isStaff: true, isActive: false });
  });

  it('keeps a notification, with its user as an id or as a natural key', () => {
    expect(readDumpRecord(notificacion({}), 0)).toEqual({
      kind: 'notification',
      id: 101,
      usuario: 7,
      mensaje: 'hola',
      leida: false,
      fecha: '2025-03-06T10:30:00.123Z',
    });
    expect(readDumpRecord(notificacion({ usuario: ['ana'] }), 0)).toMatchObject({ usuario: 'ana' });
  });

  it('takes the model name in any case, and answers other models as such', () => {
    expect(readDumpRecord({ model: 'auth.group', pk: 1, fields: {} }, 0)).toEqual({
      kind: 'other',
      model: 'auth.group',
    });
    expect(
      readDumpRecord(
        { ...user({ username: 'a', is_staff: false, is_active: true }), model: 'Auth.User' },
        0,
      ),
    ).toMatchObject({ kind: 'user' });
  });

  it.each([
    ['not an object', 5],
    ['no fields', { model: 'auth.user', pk: 1 }],
    ['a user without pk (--natural-primary)', { model: 'auth.user', fields: { username: 'a' } }],
    ['a user pk past integer', user({ username: 'a', is_staff: false, is_active: true }, 2 ** 31)],
    ['an empty username', user({ username: '', is_staff: false, is_active: true })],
    [
      'a username of 151 code points',
      user({ username: '😀'.repeat(151), is_staff: false, is_active: true }),
    ],
    ['is_staff as text', user({ username: 'a', is_staff: 'true', is_active: true })],
    ['a notification pk as text', notificacion({}, '101')],
    // Ids continue after the imported ones: they must stay exact as JSON numbers.
    ['a notification pk past 2^52', notificacion({}, 2 ** 52 + 1)],
    ['usuario null', notificacion({ usuario: null })],
    ['an empty mensaje', notificacion({ mensaje: '' })],
    ['a mensaje of 10,001 code points', notificacion({ mensaje: 'ñ'.repeat(10_001) })],
    ['leida null', notificacion({ leida: null })],
    ['fecha not a date', notificacion({ fecha: 'ayer' })],
    ['fecha out of range', notificacion({ fecha: '2025-13-06T10:30:00Z' })],
  ])('refuses %s', (_name, value) => {
    expect(() => readDumpRecord(value, 0)).toThrow(DumpError);
  });

  it('takes a mensaje of 10,000 code points outside the BMP', () => {
    expect(readDumpRecord(notificacion({ mensaje: '😀'.repeat(10_000) }), 0)).toMatchObject({
      kind: 'notification',
    });
  });
});

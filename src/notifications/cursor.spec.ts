import { BadRequestException } from '@nestjs/common';
import fc from 'fast-check';
import { decodeCursor, encodeCursor, ListPosition } from './cursor';

const raw = (text: string) => Buffer.from(text, 'utf8').toString('base64url');

/** Any instant PostgreSQL can hold from year 1 to 9999, written with microseconds as the service does. */
const positions = fc.record({
  fecha: fc
    .tuple(
      fc.date({
        min: new Date('0001-01-01T00:00:00.000Z'),
        max: new Date('9999-12-31T23:59:59.999Z'),
        noInvalidDate: true,
      }),
      fc.integer({ min: 0, max: 999 }),
    )
    .map(([date, micros]) =>
      date.toISOString().replace('Z', `${String(micros).padStart(3, '0')}Z`),
    ),
  id: fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }),
});

describe('cursor', () => {
  it('round-trips a position with its microseconds', () => {
    const position: ListPosition = { fecha: '2025-03-06T10:30:00.123456Z', id: 42 };
    expect(decodeCursor(encodeCursor(position))).toEqual(position);
  });

  it('round-trips any position', () => {
    fc.assert(
      fc.property(positions, (position) => {
        expect(decodeCursor(encodeCursor(position))).toEqual(position);
      }),
    );
  });

  it('is URL-safe', () => {
    fc.assert(
      fc.property(positions, (position) => {
        expect(encodeCursor(position)).toMatch(/^[A-Za-z0-9_-]+$/);
      }),
    );
  });

  it.each([
    ['empty', ''],
    ['garbage', 'not a cursor'],
    ['no id', raw('2025-03-06T10:30:00.123456Z')],
    ['no fecha', raw('|42')],
    ['an extra part', raw('2025-03-06T10:30:00.123456Z|42|1')],
    ['milliseconds only', raw('2025-03-06T10:30:00.123Z|42')],
    ['a time zone offset', raw('2025-03-06T10:30:00.123456+01:00|42')],
    ['February 30th', raw('2025-02-30T00:00:00.000000Z|42')],
    ['April 31st', raw('2025-04-31T00:00:00.000000Z|42')],
    ['hour 24', raw('2025-03-06T24:00:00.000000Z|42')],
    ['minute 60', raw('2025-03-06T10:60:00.000000Z|42')],
    ['year 0', raw('0000-01-01T00:00:00.000000Z|42')],
    ['id 0', raw('2025-03-06T10:30:00.123456Z|0')],
    ['a negative id', raw('2025-03-06T10:30:00.123456Z|-42')],
    ['a fractional id', raw('2025-03-06T10:30:00.123456Z|4.2')],
    ['a zero-padded id', raw('2025-03-06T10:30:00.123456Z|042')],
    ['an id past 2^53', raw('2025-03-06T10:30:00.123456Z|9007199254740993')],
    ['an exponent id', raw('2025-03-06T10:30:00.123456Z|1e3')],
  ])('rejects %s with a 400', (_name, cursor) => {
    expect(() => decodeCursor(cursor)).toThrow(BadRequestException);
  });

  it('rejects a cursor with any character changed, added or removed', () => {
    const cursor = encodeCursor({ fecha: '2025-03-06T10:30:00.123456Z', id: 42 });
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_=+/!';
    fc.assert(
      fc.property(
        fc.nat(cursor.length),
        fc.constantFrom(...alphabet),
        fc.constantFrom('change', 'add', 'remove'),
        (at, char, edit) => {
          const tampered =
            edit === 'add'
              ? cursor.slice(0, at) + char + cursor.slice(at)
              : cursor.slice(0, at) + (edit === 'change' ? char : '') + cursor.slice(at + 1);
          fc.pre(tampered !== cursor);
          // A tampered cursor may still name a real position, but never a different one silently.
          let decoded: ListPosition | undefined;
          try {
            decoded = decodeCursor(tampered);
          } catch (error) {
            expect(error).toBeInstanceOf(BadRequestException);
            return;
          }
          expect(encodeCursor(decoded)).toBe(tampered);
        },
      ),
    );
  });

  it('either rejects any string with a 400 or hands back a position that encodes to it', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.base64String()), (cursor) => {
        try {
          expect(encodeCursor(decodeCursor(cursor))).toBe(cursor);
        } catch (error) {
          expect(error).toBeInstanceOf(BadRequestException);
        }
      }),
    );
  });
});

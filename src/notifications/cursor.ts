import { BadRequestException } from '@nestjs/common';

/**
 * A keyset position in the list order (fecha DESC, id DESC). `fecha` keeps the database's
 * microseconds: rebuilt from the millisecond JSON value, it would skip or repeat rows.
 */
export interface ListPosition {
  /** UTC timestamp with microseconds, e.g. `2025-03-06T10:30:00.123456Z`. */
  fecha: string;
  id: number;
}

const FECHA = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/;

/**
 * True for an instant PostgreSQL accepts. `Date.parse` alone is not enough: it rolls 2025-02-30
 * over to March and takes year 0 and hour 24, where PostgreSQL fails the query (a 500).
 */
function isRealInstant(fecha: string): boolean {
  const ms = Date.parse(fecha);
  return (
    !Number.isNaN(ms) &&
    !fecha.startsWith('0000') &&
    new Date(ms).toISOString().slice(0, 23) === fecha.slice(0, 23)
  );
}

/** The opaque `next_cursor` for a position. */
export function encodeCursor(position: ListPosition): string {
  return Buffer.from(`${position.fecha}|${position.id}`, 'utf8').toString('base64url');
}

/** The position inside a cursor; 400 for anything this service did not hand out. */
export function decodeCursor(cursor: string): ListPosition {
  const [fecha, id, ...rest] = Buffer.from(cursor, 'base64url').toString('utf8').split('|');
  const position = { fecha, id: Number(id) };
  if (
    rest.length > 0 ||
    fecha === undefined ||
    !FECHA.test(fecha) ||
    !isRealInstant(fecha) ||
    !Number.isSafeInteger(position.id) ||
    position.id < 1 ||
    String(position.id) !== id ||
    // Base64 decoding skips stray characters: only the exact string we hand out is a cursor.
    encodeCursor(position) !== cursor
  ) {
    throw new BadRequestException('cursor is not a next_cursor this service returned');
  }
  return position;
}

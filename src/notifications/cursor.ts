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
    Number.isNaN(Date.parse(fecha)) ||
    !Number.isSafeInteger(position.id) ||
    position.id < 1 ||
    String(position.id) !== id
  ) {
    throw new BadRequestException('cursor is not a next_cursor this service returned');
  }
  return position;
}

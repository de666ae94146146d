/**
 * What one element of `python manage.py dumpdata auth.user notifications.notificacion` means
 * here. Each element is `{"model": "app.model", "pk": …, "fields": {…}}`; only the fields the
 * service keeps are read (passwords, names, e-mails, dates and groups are ignored).
 */

export const USER_MODEL = 'auth.user';
export const NOTIFICATION_MODEL = 'notifications.notificacion';

/** PostgreSQL's `integer`, the users table's id. */
const MAX_USER_ID = 2_147_483_647;
/** The users table's `varchar(150)`, as Django's own `username`. */
const MAX_USERNAME = 150;
/** The contract's `mensaje`: 1..10,000 characters, counted as PostgreSQL does (code points). */
const MAX_MENSAJE = 10_000;
/**
 * What Django's JSON encoder writes for a `DateTimeField` (`2025-03-06T10:30:00.123Z`, or an
 * offset; no offset when `USE_TZ = False`), also with a space, as PostgreSQL accepts it.
 */
const FECHA = /^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?(Z|[+-]\d{2}:?\d{2})?$/;

export interface DumpUser {
  kind: 'user';
  id: number;
  username: string;
  isStaff: boolean;
  isActive: boolean;
}

export interface DumpNotification {
  kind: 'notification';
  id: number;
  /** The user's id, or its username when dumped with `--natural-foreign`. */
  usuario: number | string;
  mensaje: string;
  leida: boolean;
  /** As written in the dump; PostgreSQL reads it (a value without an offset as UTC). */
  fecha: string;
}

/** Any other model: counted and left out (a whole-database dump holds many). */
export interface DumpOther {
  kind: 'other';
  model: string;
}

export type DumpRecord = DumpUser | DumpNotification | DumpOther;

/** A dump this service cannot take as it is, with the element that says why. */
export class DumpError extends Error {}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Length in code points; the UTF-16 length bounds it from above, so short texts skip the count. */
function codePoints(text: string, max: number): number {
  return text.length <= max ? text.length : [...text].length;
}

/**
 * The highest notification id an import may keep. Ids continue after the imported ones and
 * travel as JSON numbers, exact only below 2^53: up to 2^52 leaves 4.5e15 more to hand out.
 */
const MAX_NOTIFICATION_ID = 2 ** 52;

function positiveId(value: unknown, max: number): value is number {
  return Number.isSafeInteger(value) && (value as number) >= 1 && (value as number) <= max;
}

/** Reads element `index` (0-based) of the dump; throws DumpError naming what is wrong. */
export function readDumpRecord(value: unknown, index: number): DumpRecord {
  const where = `element ${index + 1}`;
  if (!isObject(value) || typeof value.model !== 'string' || !isObject(value.fields)) {
    throw new DumpError(`${where} is not a dumpdata object {"model", "pk", "fields"}`);
  }
  const model = value.model.toLowerCase();
  if (model !== USER_MODEL && model !== NOTIFICATION_MODEL) return { kind: 'other', model };
  const fields = value.fields;
  if (model === USER_MODEL) {
    if (value.pk === undefined) {
      throw new DumpError(
        `${where}: auth.user without "pk" (dumped with --natural-primary): dump without it, so users keep their ids`,
      );
    }
    const id = value.pk;
    if (!positiveId(id, MAX_USER_ID))
      throw new DumpError(`${where}: auth.user "pk" is not a user id`);
    const { username, is_staff: isStaff, is_active: isActive } = fields;
    if (
      typeof username !== 'string' ||
      username.length === 0 ||
      codePoints(username, MAX_USERNAME) > MAX_USERNAME
    ) {
      throw new DumpError(`user ${id}: "username" must be 1..${MAX_USERNAME} characters`);
    }
    if (typeof isStaff !== 'boolean' || typeof isActive !== 'boolean') {
      throw new DumpError(`user ${id}: "is_staff" and "is_active" must be true or false`);
    }
    return { kind: 'user', id, username, isStaff, isActive };
  }
  const id = value.pk;
  if (!positiveId(id, MAX_NOTIFICATION_ID)) {
    throw new DumpError(`${where}: notifications.notificacion "pk" is not a notification id`);
  }
  const { usuario, mensaje, leida, fecha } = fields;
  let owner: number | string;
  if (positiveId(usuario, MAX_USER_ID)) owner = usuario;
  else if (Array.isArray(usuario) && usuario.length === 1 && typeof usuario[0] === 'string') {
    owner = usuario[0];
  } else {
    throw new DumpError(`notification ${id}: "usuario" is neither a user id nor ["username"]`);
  }
  if (
    typeof mensaje !== 'string' ||
    mensaje.length === 0 ||
    codePoints(mensaje, MAX_MENSAJE) > MAX_MENSAJE
  ) {
    throw new DumpError(`notification ${id}: "mensaje" must be 1..${MAX_MENSAJE} characters`);
  }
  if (typeof leida !== 'boolean') {
    throw new DumpError(`notification ${id}: "leida" must be true or false`);
  }
  if (typeof fecha !== 'string' || !FECHA.test(fecha) || Number.isNaN(Date.parse(fecha))) {
    throw new DumpError(`notification ${id}: "fecha" is not a date and time`);
  }
  return { kind: 'notification', id, usuario: owner, mensaje, leida, fecha };
}

// The contract's bounds on a notification's `tipo`, `url` and `datos`: checked by the send DTO
// (400 per bad field) and by the in-process API, before anything reaches PostgreSQL.

import { mensajeProblem } from './mensaje';

/** The kind a notification gets when its sender names none. */
export const TIPO_DEFAULT = 'general';
export const TIPO_PATTERN = /^[a-z0-9_-]{1,50}$/;
export const URL_MAX_LENGTH = 2000;
/** `datos` serialized as JSON (UTF-8 bytes), as the sender sent it. */
export const DATOS_MAX_BYTES = 4096;

/** JSON a notification carries for the frontend's own use. */
export type Datos = Record<string, unknown>;

export function tipoProblem(tipo: unknown): string | undefined {
  if (typeof tipo !== 'string' || !TIPO_PATTERN.test(tipo))
    return 'tipo must be 1 to 50 characters of a-z, 0-9, _ and -';
  return undefined;
}

/**
 * A path on the frontend (`/pedidos/42`) or an absolute http(s) URL. `//host` and `/\host` are
 * refused: browsers read them as links to another site, which a path is not meant to be.
 */
export function urlProblem(url: unknown): string | undefined {
  if (typeof url !== 'string') return 'url must be a string';
  if ([...url].length > URL_MAX_LENGTH) return `url must be at most ${URL_MAX_LENGTH} characters`;
  // Control characters and spaces have no place in a link, and NUL none in PostgreSQL's text.
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u0020\u007f]/.test(url)) return 'url must not contain spaces or control characters';
  if (badText(url)) return 'url must be valid Unicode text (no lone surrogates)';
  if (url.startsWith('/')) {
    if (url.startsWith('//') || url.startsWith('/\\'))
      return 'url must be a path starting with a single / or an http(s):// URL';
    return undefined;
  }
  if (/^https?:\/\//i.test(url) && URL.canParse(url)) return undefined;
  return 'url must be a path starting with / or an http(s):// URL';
}

/** Strings PostgreSQL's jsonb cannot hold: a NUL, or a lone surrogate. */
function badText(text: string): boolean {
  // eslint-disable-next-line no-control-regex
  return /\u0000|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/.test(text);
}

function holdsBadText(value: unknown): boolean {
  if (typeof value === 'string') return badText(value);
  if (Array.isArray(value)) return value.some(holdsBadText);
  if (typeof value === 'object' && value !== null)
    return Object.entries(value).some(([key, item]) => badText(key) || holdsBadText(item));
  return false;
}

/** A number JSON cannot carry back (1e400 parses as Infinity and would be stored as null). */
function holdsNonFinite(value: unknown): boolean {
  if (typeof value === 'number') return !Number.isFinite(value);
  if (Array.isArray(value)) return value.some(holdsNonFinite);
  if (typeof value === 'object' && value !== null) return Object.values(value).some(holdsNonFinite);
  return false;
}

export function datosProblem(datos: unknown): string | undefined {
  if (typeof datos !== 'object' || datos === null || Array.isArray(datos))
    return 'datos must be a JSON object';
  if (Buffer.byteLength(JSON.stringify(datos)) > DATOS_MAX_BYTES)
    return `datos must be at most ${DATOS_MAX_BYTES} bytes of JSON`;
  if (holdsBadText(datos)) return 'datos must hold valid Unicode text (no NUL, no lone surrogates)';
  if (holdsNonFinite(datos)) return 'datos must hold only finite numbers';
  return undefined;
}

/** What a sender may say besides `mensaje`, each optional. */
export interface NotificationFields {
  /** What kind of notification it is (1..50 of a-z 0-9 _ -); `general` when not given. */
  tipo?: string;
  /** Where the frontend goes when it is clicked: a path starting with `/`, or an http(s) URL. */
  url?: string | null;
  /** A JSON object for the frontend's own use, at most 4 KiB serialized. */
  datos?: Datos | null;
}

/** What a sender says in a notification, with defaults: the same for every recipient. */
export interface NotificationContent {
  mensaje: string;
  tipo: string;
  url: string | null;
  datos: Datos | null;
}

export function contentWithDefaults(
  mensaje: string,
  fields: NotificationFields,
): NotificationContent {
  return {
    mensaje,
    tipo: fields.tipo ?? TIPO_DEFAULT,
    url: fields.url ?? null,
    datos: fields.datos ?? null,
  };
}

/** The first field of this content the contract refuses, worded for a 400; else undefined. */
export function contentProblem(content: NotificationContent): string | undefined {
  return (
    mensajeProblem(content.mensaje) ??
    tipoProblem(content.tipo) ??
    (content.url === null ? undefined : urlProblem(content.url)) ??
    (content.datos === null ? undefined : datosProblem(content.datos))
  );
}

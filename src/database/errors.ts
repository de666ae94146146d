// What a database error means, whichever way it arrived: raw from pg (prepared statements) or
// wrapped by TypeORM (a caller's transaction) in a QueryFailedError with the pg error inside.

// Connection-level failures (server down, restarting, pool exhausted): 503, not a bug.
const UNAVAILABLE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENOTFOUND',
  'EPIPE',
]);
// Connection exceptions (08), the server shutting down or restarting (57P), and a statement
// the server cancelled (57014: statement_timeout, a database too slow or stuck to answer in time).
const UNAVAILABLE_SQLSTATE = /^(08|57P|57014$)/;

const FOREIGN_KEY_VIOLATION = '23503';
const UNIQUE_VIOLATION = '23505';
const SEQUENCE_EXHAUSTED = '2200H';

/** The SQLSTATE (or socket error code) of an error, looking inside TypeORM's wrapper. */
function codeOf(error: unknown): string | undefined {
  const { code, driverError } = (error ?? {}) as { code?: unknown; driverError?: unknown };
  if (typeof code === 'string') return code;
  return driverError === undefined ? undefined : codeOf(driverError);
}

/** True when the error says the database could not be reached, rather than a query being wrong. */
export function isDatabaseUnavailable(error: unknown): boolean {
  const { code, message, driverError } = (error ?? {}) as {
    code?: string;
    message?: string;
    driverError?: unknown;
  };
  if (driverError && isDatabaseUnavailable(driverError)) return true;
  if (typeof code === 'string' && (UNAVAILABLE_CODES.has(code) || UNAVAILABLE_SQLSTATE.test(code)))
    return true;
  return /Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error/i.test(
    message ?? '',
  );
}

/** A row referred to a row that is not there (a user deleted mid-statement). */
export function isForeignKeyViolation(error: unknown): boolean {
  return codeOf(error) === FOREIGN_KEY_VIOLATION;
}

/** A unique constraint refused the row (a username taken). */
export function isUniqueViolation(error: unknown): boolean {
  return codeOf(error) === UNIQUE_VIOLATION;
}

/** A sequence reached its maximum: no id left to hand out (the host took the last ones). */
export function isSequenceExhausted(error: unknown): boolean {
  return codeOf(error) === SEQUENCE_EXHAUSTED;
}

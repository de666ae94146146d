import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import pino, { DestinationStream, Level, Logger, LoggerOptions } from 'pino';
import type { AuthenticatedUser } from '../auth/authenticated-user';
import type { AppConfig } from '../config/configuration';

export const REQUEST_ID_HEADER = 'X-Request-Id';
const REQUEST_ID_HEADER_LOWER = REQUEST_ID_HEADER.toLowerCase();

// A caller's id is kept only when it is a plain token: it ends up in every log line.
const REQUEST_ID = /^[A-Za-z0-9._:@-]{1,128}$/;
// A parameter is secret when its name, decoded, contains one of these anywhere (`refresh_token`,
// `token[]`, `user[password]`, `X-Session-Id`), or one of its words is one of the short ones.
const SECRET_NAME = /token|bearer|session|secret|passw|auth|jwt|api.?key|credential|signature/i;
const SECRET_WORD = /^(key|sig|sid|code|pwd)$/i;
// A JWT wherever it sits (a path segment, an unnamed parameter): base64url of `{"` starts `eyJ`.
const JWT_SHAPE = /eyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*/g;
const REDACTED = '[redacted]';
// Probes and scrapes every few seconds: logged at debug unless they fail.
const ROUTINE_PATH = /^\/(health|metrics)\/?(\?|$)/;

/** The caller's `X-Request-Id` when it is a sane token (so traces join up), else a new UUID. */
export function requestIdFor(header: string | string[] | undefined): string {
  const value = Array.isArray(header) ? header[0] : header;
  return value !== undefined && REQUEST_ID.test(value) ? value : randomUUID();
}

/** The URL with the values of token-like query parameters, and anything JWT-shaped, replaced. */
export function redactUrl(url: string): string {
  const query = url.indexOf('?');
  const redacted = query < 0 ? url : `${url.slice(0, query)}?${redactQuery(url.slice(query + 1))}`;
  return redacted.replace(JWT_SHAPE, REDACTED);
}

function redactQuery(query: string): string {
  // `;` separates too: some parsers split on it, so `a=1;token=…` may carry a token.
  return query
    .split(/([&;])/)
    .map((part, index) => (index % 2 === 1 ? part : redactParam(part)))
    .join('');
}

function redactParam(param: string): string {
  const equals = param.indexOf('=');
  if (equals < 0) return param;
  const name = param.slice(0, equals);
  return isSecretName(decodeURIComponentSafe(name)) ? `${name}=${REDACTED}` : param;
}

function isSecretName(name: string): boolean {
  return (
    SECRET_NAME.test(name) || name.split(/[^A-Za-z0-9]+/).some((word) => SECRET_WORD.test(word))
  );
}

function decodeURIComponentSafe(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

function resolvable(name: string): boolean {
  try {
    require.resolve(name);
    return true;
  } catch {
    return false;
  }
}

/**
 * The one pino logger of the app: JSON lines on stdout (what log collectors read), or
 * pino-pretty in development when it is installed (it is a dev dependency, absent from the
 * production image). `destination` lets tests read the lines.
 */
export function createRootLogger(
  config: Pick<AppConfig, 'logLevel' | 'nodeEnv'>,
  destination?: DestinationStream,
): Logger {
  const options: LoggerOptions = {
    level: config.logLevel,
    timestamp: pino.stdTimeFunctions.isoTime,
    // Defence in depth: the request serializer below leaves headers out already.
    redact: {
      paths: ['req.headers.authorization', 'req.headers.cookie', 'res.headers["set-cookie"]'],
      censor: '[redacted]',
    },
  };
  const pretty =
    config.nodeEnv === 'development' &&
    destination === undefined &&
    config.logLevel !== 'silent' &&
    resolvable('pino-pretty');
  if (pretty) {
    return pino({
      ...options,
      transport: {
        target: 'pino-pretty',
        // The message already says method, URL and status.
        options: {
          translateTime: 'SYS:HH:MM:ss.l',
          ignore: 'pid,hostname,req,res',
          singleLine: true,
        },
      },
    });
  }
  // Level names rather than numbers, so `jq 'select(.level == "error")'` reads naturally.
  const json: LoggerOptions = { ...options, formatters: { level: (label) => ({ level: label }) } };
  // Asynchronous writes: on Linux a write to a piped stdout (containers, process managers)
  // blocks the event loop whenever the reader lags, and one line per request adds up.
  return pino(json, destination ?? pino.destination({ dest: 1, sync: false }));
}

type Req = IncomingMessage & { originalUrl?: string; user?: AuthenticatedUser };

/** The `reqId` the request logger gave this request, if it ran. */
export function requestIdOf(req: object): string | undefined {
  const { id } = req as { id?: unknown };
  return typeof id === 'string' ? id : undefined;
}

/** Its completion line's level: errors above all, routine probes below the rest. */
function levelOf(url: string, status: number): Level {
  if (status >= 500) return 'error';
  return ROUTINE_PATH.test(url) ? 'debug' : 'info';
}

/**
 * One line per request with its id (`reqId`, echoed in `X-Request-Id`), the authenticated
 * `userId` once the guard has run, the status and `responseTime` in ms. No headers and no
 * bodies: notification text never reaches the logs. The line is the one pino-http wrote (same
 * keys, same order, same messages), built here from what was read when the request arrived,
 * without pino-http's three child loggers and its serializers per request. `req.id` is the
 * `reqId`, for logs written about the request while it runs (see `requestIdOf`).
 */
export function createHttpLogger(
  root: Logger,
): (req: Req, res: ServerResponse, next: () => void) => void {
  return (req, res, next) => {
    const started = Date.now();
    const id = requestIdFor(req.headers[REQUEST_ID_HEADER_LOWER]);
    res.setHeader(REQUEST_ID_HEADER, id);
    Object.assign(req, { id });
    const url = req.originalUrl ?? req.url ?? '';
    const { method } = req;
    const remoteAddress = req.socket.remoteAddress;
    // 'close' comes after 'finish', and alone when the client went away first: once either way.
    res.once('close', () => {
      const status = res.statusCode;
      const level = levelOf(url, status);
      if (!root.isLevelEnabled(level)) return;
      const shown = redactUrl(url);
      const line: Record<string, unknown> = {
        reqId: id,
        req: { id, method, url: shown, remoteAddress },
      };
      if (req.user) line.userId = req.user.id;
      line.res = { statusCode: status };
      if (status >= 500) line.err = new Error(`failed with status code ${status}`);
      line.responseTime = Date.now() - started;
      root[level](line, `${method} ${shown} ${status}`);
    });
    next();
  };
}

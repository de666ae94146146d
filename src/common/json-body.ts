import { isUtf8 } from 'node:buffer';
import express, { type Request, type RequestHandler } from 'express';
import { rawJsonShapeProblem } from './json-shape';

/** The largest JSON body a route takes; more is 413. `path` as OpenAPI writes it (`{id}`). */
export interface RouteBodyLimit {
  method: 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  path: string;
  bytes: number;
}

export interface JsonBodyOptions {
  routes: readonly RouteBodyLimit[];
  /** For every other path (a small body, or a route that takes none). */
  otherRoutes: number;
  /**
   * True when the body must not be read at all: the request will be refused whatever it holds
   * (a route that needs a token, from a client without a validly signed one). Parsing is the
   * expensive part, so the caller is checked first; the guards then answer as usual.
   */
  refusedUnread?: (req: Request) => boolean;
}

/** `/notifications/api/users/{id}` → a pattern Express would match (trailing slash optional, any case). */
function routePattern(path: string): RegExp {
  const segments = path
    .replace(/\/$/, '')
    .split('/')
    .map((segment) =>
      /^\{\w+\}$/.test(segment) ? '[^/]+' : segment.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'),
    );
  return new RegExp(`^${segments.join('/')}/?$`, 'i');
}

/** As type-is decides it for body-parser: a request has a body when it says it has one. */
function hasBody(req: Request): boolean {
  return (
    req.headers['transfer-encoding'] !== undefined ||
    !Number.isNaN(Number.parseInt(req.headers['content-length'] ?? '', 10))
  );
}

/** An error body-parser passes on with this status (it keeps an error's own `status`). */
function refusal(status: number, message: string, type: string): Error {
  return Object.assign(new Error(message), { status, expose: true, type });
}

/**
 * Checked before JSON.parse sees a byte: UTF-8 only (as RFC 8259 requires between systems; the
 * byte scan below relies on it), and within the shape limits, in one linear pass. body-parser
 * turns the errors into 415 and 400, which Nest answers in its error shape.
 */
function verifyJson(_req: unknown, _res: unknown, body: Buffer, encoding: string): void {
  if (encoding.toLowerCase() !== 'utf-8') {
    throw refusal(
      415,
      `unsupported charset "${encoding.toUpperCase()}": send UTF-8`,
      'charset.unsupported',
    );
  }
  // Decoding would turn invalid bytes into U+FFFD and store that in place of what was sent.
  if (!isUtf8(body)) throw refusal(400, 'body is not valid UTF-8', 'entity.verify.failed');
  const problem = rawJsonShapeProblem(body);
  if (problem !== undefined) throw refusal(400, problem, 'entity.verify.failed');
}

/**
 * The JSON body parser: each route's own size limit, the caller before the body, and the shape
 * of the body before it is parsed. Mount it where `app.useBodyParser('json')` would go.
 */
export function jsonBody(options: JsonBodyOptions): RequestHandler {
  const parsers = new Map<number, RequestHandler>();
  const parserFor = (bytes: number): RequestHandler => {
    let parser = parsers.get(bytes);
    if (!parser) {
      parser = express.json({ limit: bytes, verify: verifyJson });
      parsers.set(bytes, parser);
    }
    return parser;
  };
  const routes = options.routes.map((route) => ({ ...route, pattern: routePattern(route.path) }));
  return (req, res, next) => {
    if (!hasBody(req) || options.refusedUnread?.(req)) {
      // Left unread: Node discards the rest of the body once the response is sent.
      req.body = undefined;
      next();
      return;
    }
    const route = routes.find(
      (candidate) => candidate.method === req.method && candidate.pattern.test(req.path),
    );
    parserFor(route?.bytes ?? options.otherRoutes)(req, res, next);
  };
}

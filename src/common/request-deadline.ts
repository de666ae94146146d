import { ServiceUnavailableException } from '@nestjs/common';
import type { NextFunction, Request, Response } from 'express';

/**
 * The contract bounds a request, not a statement: when the database answers too slowly the
 * client still hears 503 within 10 seconds. Each statement has its own bound (see database/),
 * but a request makes several in a row (the auth lookup, then its own), so a database that
 * answers each in 4 s would keep it for 12. This bounds their sum, counted from the request's
 * arrival; 9 s leaves a second for the answer to go out.
 */
export const REQUEST_DEADLINE_MS = 9_000;

/** When a client answered 503 for the database (at the deadline, or by it) should try again. */
export const RETRY_AFTER_S = 5;

/** What the client hears at the deadline: the 503 of a database that does not answer. */
const UNAVAILABLE = new ServiceUnavailableException(
  'database unavailable, try again shortly',
).getResponse();

/** The route's own answer, when it comes after the deadline's: dropped, as a no-op. */
function dropped(this: Response): Response {
  return this;
}

/**
 * Answers 503 when a request is still unanswered `deadlineMs` after it arrived (mount it first,
 * ahead of anything that may wait on the database). What the route was doing goes on (a
 * statement may still commit, as when a reply is lost on the wire); its answer is dropped. A
 * timer per request, cleared when the response closes: unlike an interceptor, it costs the
 * request no Observable, and it also bounds the guards' waits (the auth lookup).
 */
export function requestDeadline(deadlineMs = REQUEST_DEADLINE_MS) {
  return (request: Request, response: Response, next: NextFunction): void => {
    const timer = setTimeout(() => {
      if (response.headersSent) return;
      response.setHeader('Retry-After', String(RETRY_AFTER_S));
      response.status(503).json(UNAVAILABLE);
      // The route answers later through these (its error too, through the exception filter),
      // and a guard may still set headers: all of it too late, dropped rather than thrown.
      response.status = dropped;
      response.json = dropped;
      response.send = dropped;
      response.setHeader = dropped;
    }, deadlineMs);
    response.once('close', () => clearTimeout(timer));
    next();
  };
}

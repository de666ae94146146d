import type { Server } from 'node:http';
import { STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';

/** Node's parser error codes, and the status each gets (anything else is a 400). */
const STATUS_BY_CODE: Record<string, number> = {
  HPE_HEADER_OVERFLOW: 431,
  HPE_CHUNK_EXTENSIONS_OVERFLOW: 413,
  ERR_HTTP_REQUEST_TIMEOUT: 408,
};

const MESSAGES: Record<number, string> = {
  400: 'malformed HTTP request',
  408: 'the request took too long to arrive',
  413: 'chunk extensions too large',
  431: 'request headers too large: at most 16 KiB of request line and headers',
};

/** The raw HTTP/1.1 response for a request Node refused before any route saw it. */
export function clientErrorResponse(code: string | undefined): string {
  const status = STATUS_BY_CODE[code ?? ''] ?? 400;
  const reason = STATUS_CODES[status]!;
  const body = JSON.stringify({ statusCode: status, message: MESSAGES[status], error: reason });
  return [
    `HTTP/1.1 ${status} ${reason}`,
    'Content-Type: application/json; charset=utf-8',
    `Content-Length: ${Buffer.byteLength(body)}`,
    'Cache-Control: no-store',
    'Connection: close',
    '',
    body,
  ].join('\r\n');
}

/**
 * Requests Node's parser rejects (headers over its 16 KiB limit, garbage, a request that never
 * finishes arriving) never reach Express: Node answers them with a bare status line. This gives
 * them Nest's error shape like every other error, under the same rule Node follows: reply only
 * when nothing of a response has been written to the connection yet, then close it.
 */
export function answerClientErrors(server: Server): void {
  server.on('clientError', (error: NodeJS.ErrnoException, socket: Duplex) => {
    const inFlight = (socket as Duplex & { _httpMessage?: { headersSent?: boolean } })._httpMessage;
    if (socket.writable && !inFlight?.headersSent) {
      socket.end(clientErrorResponse(error.code), () => socket.destroy());
    } else {
      socket.destroy();
    }
  });
}

import { ArgumentsHost, Catch, ExceptionFilter, Logger } from '@nestjs/common';

/**
 * For Socket.IO handlers with an acknowledgement: whatever escapes the handler is answered
 * through that acknowledgement as `{"error": …}`, and the socket stays open. It replaces Nest's
 * default, which emits an `exception` event outside the contract, carrying the whole payload
 * that caused it back to the client.
 */
@Catch()
export class AckErrorFilter implements ExceptionFilter {
  private readonly logger = new Logger(AckErrorFilter.name);

  catch(exception: unknown, host: ArgumentsHost): void {
    this.logger.error(
      exception instanceof Error ? (exception.stack ?? exception.message) : String(exception),
    );
    // The arguments are the socket, the payload, the acknowledgement (when the client asked
    // for one), and the event name.
    const ack = host
      .getArgs()
      .find((arg): arg is (reply: unknown) => void => typeof arg === 'function');
    ack?.({ error: 'could not handle the event, try again' });
  }
}

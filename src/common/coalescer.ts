interface Waiting<I, O> {
  input: I;
  resolve: (output: O) => void;
  reject: (error: unknown) => void;
  timer?: NodeJS.Timeout;
}

/**
 * A call that waited longer than its coalescer's bound, queued or in a batch. Code `ETIMEDOUT`,
 * like a connection that timed out: the caller cannot tell (nor need to) which wait was stuck,
 * and the exception filter answers 503 for it.
 */
export class CoalescerTimeoutError extends Error {
  readonly code = 'ETIMEDOUT';

  constructor(timeoutMs: number) {
    super(`no answer within ${timeoutMs} ms (timeout exceeded)`);
    this.name = 'CoalescerTimeoutError';
  }
}

/**
 * Gathers concurrent calls into batches: calls made while the batches in flight run are handed
 * to `runBatch` together, in call order, as soon as a slot frees up. Under load one statement
 * then carries many rows (one round trip, one commit); alone, a call runs at once.
 * `runBatch` answers one output per input, in the same order; a rejected batch rejects each
 * of its calls.
 *
 * With `timeoutMs`, no call waits longer than that from the moment it is made, whether queued
 * behind a stuck batch or in one: it is rejected with a `CoalescerTimeoutError`. A batch still
 * running after `timeoutMs` gives up its slot (what it answers later is ignored), so one that
 * never settles cannot hold every later call back.
 */
export class Coalescer<I, O> {
  private queue: Array<Waiting<I, O>> = [];
  private inFlight = 0;

  constructor(
    private readonly runBatch: (inputs: I[]) => Promise<O[]>,
    private readonly maxInFlight: number,
    private readonly maxBatch: number,
    private readonly timeoutMs?: number,
  ) {}

  run(input: I): Promise<O> {
    return new Promise<O>((resolve, reject) => {
      const waiting: Waiting<I, O> = { input, resolve, reject };
      const timeoutMs = this.timeoutMs;
      if (timeoutMs !== undefined) {
        waiting.timer = setTimeout(() => {
          const queued = this.queue.indexOf(waiting);
          if (queued !== -1) this.queue.splice(queued, 1);
          reject(new CoalescerTimeoutError(timeoutMs));
        }, timeoutMs);
      }
      this.queue.push(waiting);
      this.drain();
    });
  }

  private drain(): void {
    while (this.inFlight < this.maxInFlight && this.queue.length > 0) {
      const batch = this.queue.splice(0, this.maxBatch);
      this.inFlight += 1;
      let timer: NodeJS.Timeout | undefined;
      const answered = this.runBatch(batch.map((waiting) => waiting.input)).then(
        (outputs) =>
          batch.forEach((waiting, index) => {
            clearTimeout(waiting.timer);
            waiting.resolve(outputs[index]);
          }),
        (error: unknown) =>
          batch.forEach((waiting) => {
            clearTimeout(waiting.timer);
            waiting.reject(error);
          }),
      );
      const slotFree =
        this.timeoutMs === undefined
          ? answered
          : Promise.race([
              answered,
              new Promise<void>((resolve) => {
                timer = setTimeout(resolve, this.timeoutMs);
              }),
            ]);
      void slotFree.finally(() => {
        clearTimeout(timer);
        this.inFlight -= 1;
        this.drain();
      });
    }
  }
}

interface Caller<O> {
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

interface Waiting<I, O> {
  input: I;
  /** `keyOf(input)`, when there is a `keyOf`. */
  key: unknown;
  /** Every call answered by this input: more than one when calls with the same key joined it. */
  callers: Array<Caller<O>>;
}

export interface CoalescerOptions<I> {
  /** Batches running at once. */
  maxInFlight: number;
  /** Inputs in one batch at most. */
  maxBatch: number;
  /** Calls with the same key that are waiting at the same time share one input. */
  keyOf?: (input: I) => unknown;
  /** No call waits longer than this, from the moment it is made. */
  timeoutMs?: number;
}

/**
 * Gathers concurrent calls into batches: calls made while the batches in flight run are handed
 * to `runBatch` together, in call order, as soon as a slot frees up. Under load one statement
 * then carries many rows (one round trip, one commit); alone, a call runs at once.
 * `runBatch` answers one output per input, in the same order; a rejected batch rejects each
 * of its calls.
 *
 * With `keyOf`, a call whose key matches a call still waiting joins it and shares its answer
 * (a read asked for many times at once is read once), never one already in flight: that may
 * have read before the call was made. A key runs in one batch at a time, so one busy key
 * (a user listing in a loop) holds one slot at most and the others keep moving.
 *
 * With `timeoutMs`, no call waits longer than that from the moment it is made, whether queued
 * behind a stuck batch or in one: it is rejected with a `CoalescerTimeoutError`. A batch still
 * running after `timeoutMs` gives up its slot and its keys (what it answers later is ignored),
 * so one that never settles cannot hold every later call back.
 */
export class Coalescer<I, O> {
  private queue: Array<Waiting<I, O>> = [];
  /** The waiting calls by key, when `keyOf` is given. */
  private readonly queuedByKey = new Map<unknown, Waiting<I, O>>();
  private readonly keysInFlight = new Set<unknown>();
  private inFlight = 0;

  constructor(
    private readonly runBatch: (inputs: I[]) => Promise<O[]>,
    private readonly options: CoalescerOptions<I>,
  ) {}

  run(input: I): Promise<O> {
    return new Promise<O>((resolve, reject) => {
      const caller: Caller<O> = { resolve, reject };
      const { keyOf } = this.options;
      const key = keyOf?.(input);
      let waiting = keyOf ? this.queuedByKey.get(key) : undefined;
      if (waiting) {
        waiting.callers.push(caller);
      } else {
        waiting = { input, key, callers: [caller] };
        this.queue.push(waiting);
        if (keyOf) this.queuedByKey.set(key, waiting);
      }
      this.armTimeout(waiting, caller);
      this.drain();
    });
  }

  private armTimeout(waiting: Waiting<I, O>, caller: Caller<O>): void {
    const timeoutMs = this.options.timeoutMs;
    if (timeoutMs === undefined) return;
    caller.timer = setTimeout(() => {
      waiting.callers = waiting.callers.filter((other) => other !== caller);
      // Still queued with nobody left to answer: it need not run at all.
      const queued = this.queue.indexOf(waiting);
      if (waiting.callers.length === 0 && queued !== -1) {
        this.queue.splice(queued, 1);
        if (this.queuedByKey.get(waiting.key) === waiting) this.queuedByKey.delete(waiting.key);
      }
      caller.reject(new CoalescerTimeoutError(timeoutMs));
    }, timeoutMs);
  }

  private drain(): void {
    while (this.inFlight < this.options.maxInFlight) {
      const batch = this.nextBatch();
      if (batch.length === 0) return;
      this.inFlight += 1;
      const settle = (answer: (caller: Caller<O>, index: number) => void) =>
        batch.forEach((waiting, index) =>
          waiting.callers.forEach((caller) => {
            clearTimeout(caller.timer);
            answer(caller, index);
          }),
        );
      const answered = this.runBatch(batch.map((waiting) => waiting.input)).then(
        (outputs) => settle((caller, index) => caller.resolve(outputs[index])),
        (error: unknown) => settle((caller) => caller.reject(error)),
      );
      let timer: NodeJS.Timeout | undefined;
      const timeoutMs = this.options.timeoutMs;
      const slotFree =
        timeoutMs === undefined
          ? answered
          : Promise.race([
              answered,
              new Promise<void>((resolve) => {
                timer = setTimeout(resolve, timeoutMs);
              }),
            ]);
      void slotFree.finally(() => {
        clearTimeout(timer);
        this.inFlight -= 1;
        if (this.options.keyOf) for (const waiting of batch) this.keysInFlight.delete(waiting.key);
        this.drain();
      });
    }
  }

  /** The oldest waiting calls, at most `maxBatch`, skipping keys that are in flight. */
  private nextBatch(): Array<Waiting<I, O>> {
    const { keyOf, maxBatch } = this.options;
    if (!keyOf) return this.queue.splice(0, maxBatch);
    const batch: Array<Waiting<I, O>> = [];
    const rest: Array<Waiting<I, O>> = [];
    for (const waiting of this.queue) {
      if (batch.length < maxBatch && !this.keysInFlight.has(waiting.key)) {
        batch.push(waiting);
        this.queuedByKey.delete(waiting.key);
        this.keysInFlight.add(waiting.key);
      } else {
        rest.push(waiting);
      }
    }
    this.queue = rest;
    return batch;
  }
}

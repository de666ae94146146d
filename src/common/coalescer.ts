interface Caller<O> {
  resolve: (output: O) => void;
  reject: (error: unknown) => void;
}

interface Waiting<I, O> {
  input: I;
  /** `keyOf(input)`, when there is a `keyOf`. */
  key: unknown;
  /** Every call answered by this input: more than one when calls with the same key joined it. */
  callers: Array<Caller<O>>;
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
 */
export class Coalescer<I, O> {
  private queue: Array<Waiting<I, O>> = [];
  /** The waiting calls by key, when `keyOf` is given. */
  private readonly queuedByKey = new Map<unknown, Waiting<I, O>>();
  private readonly keysInFlight = new Set<unknown>();
  private inFlight = 0;

  constructor(
    private readonly runBatch: (inputs: I[]) => Promise<O[]>,
    private readonly maxInFlight: number,
    private readonly maxBatch: number,
    private readonly keyOf?: (input: I) => unknown,
  ) {}

  run(input: I): Promise<O> {
    return new Promise<O>((resolve, reject) => {
      const key = this.keyOf?.(input);
      const queued = this.keyOf ? this.queuedByKey.get(key) : undefined;
      if (queued) {
        queued.callers.push({ resolve, reject });
        return;
      }
      const waiting = { input, key, callers: [{ resolve, reject }] };
      this.queue.push(waiting);
      if (this.keyOf) this.queuedByKey.set(key, waiting);
      this.drain();
    });
  }

  private drain(): void {
    while (this.inFlight < this.maxInFlight) {
      const batch = this.nextBatch();
      if (batch.length === 0) return;
      this.inFlight += 1;
      this.runBatch(batch.map((waiting) => waiting.input))
        .then(
          (outputs) =>
            batch.forEach((waiting, index) =>
              waiting.callers.forEach((caller) => caller.resolve(outputs[index])),
            ),
          (error: unknown) =>
            batch.forEach((waiting) => waiting.callers.forEach((caller) => caller.reject(error))),
        )
        .finally(() => {
          this.inFlight -= 1;
          if (this.keyOf) for (const waiting of batch) this.keysInFlight.delete(waiting.key);
          this.drain();
        });
    }
  }

  /** The oldest waiting calls, at most `maxBatch`, skipping keys that are in flight. */
  private nextBatch(): Array<Waiting<I, O>> {
    if (!this.keyOf) return this.queue.splice(0, this.maxBatch);
    const batch: Array<Waiting<I, O>> = [];
    const rest: Array<Waiting<I, O>> = [];
    for (const waiting of this.queue) {
      if (batch.length < this.maxBatch && !this.keysInFlight.has(waiting.key)) {
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

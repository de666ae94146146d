interface Waiting<I, O> {
  input: I;
  resolve: (output: O) => void;
  reject: (error: unknown) => void;
}

/**
 * Gathers concurrent calls into batches: calls made while the batches in flight run are handed
 * to `runBatch` together, in call order, as soon as a slot frees up. Under load one statement
 * then carries many rows (one round trip, one commit); alone, a call runs at once.
 * `runBatch` answers one output per input, in the same order; a rejected batch rejects each
 * of its calls.
 */
export class Coalescer<I, O> {
  private queue: Array<Waiting<I, O>> = [];
  private inFlight = 0;

  constructor(
    private readonly runBatch: (inputs: I[]) => Promise<O[]>,
    private readonly maxInFlight: number,
    private readonly maxBatch: number,
  ) {}

  run(input: I): Promise<O> {
    return new Promise<O>((resolve, reject) => {
      this.queue.push({ input, resolve, reject });
      this.drain();
    });
  }

  private drain(): void {
    while (this.inFlight < this.maxInFlight && this.queue.length > 0) {
      const batch = this.queue.splice(0, this.maxBatch);
      this.inFlight += 1;
      this.runBatch(batch.map((waiting) => waiting.input))
        .then(
          (outputs) => batch.forEach((waiting, index) => waiting.resolve(outputs[index])),
          (error: unknown) => batch.forEach((waiting) => waiting.reject(error)),
        )
        .finally(() => {
          this.inFlight -= 1;
          this.drain();
        });
    }
  }
}

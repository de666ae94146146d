import { performance } from 'node:perf_hooks';

/** What a load loop did: successful operations with their latencies, and failures. */
export interface LoopResult {
  ok: number;
  errors: number;
  /** Latency of every successful operation, in ms. */
  latencies: number[];
  elapsedMs: number;
  firstError?: string;
}

/** Stops a loop that only fails, rather than spinning through errors until the deadline. */
const MAX_ERRORS = 1000;

async function drive(
  concurrency: number,
  more: () => boolean,
  op: (worker: number) => Promise<void>,
): Promise<LoopResult> {
  const result: LoopResult = { ok: 0, errors: 0, latencies: [], elapsedMs: 0 };
  const started = performance.now();
  const worker = async (index: number) => {
    while (more() && !(result.errors > MAX_ERRORS && result.errors > result.ok)) {
      const start = performance.now();
      try {
        await op(index);
        result.latencies.push(performance.now() - start);
        result.ok += 1;
      } catch (error) {
        result.errors += 1;
        result.firstError ??= (error as Error).message;
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, (_, index) => worker(index)));
  result.elapsedMs = performance.now() - started;
  return result;
}

/** `concurrency` workers each run `op` back to back until `durationMs` has passed. */
export function closedLoop(
  concurrency: number,
  durationMs: number,
  op: (worker: number) => Promise<void>,
): Promise<LoopResult> {
  const deadline = performance.now() + durationMs;
  return drive(concurrency, () => performance.now() < deadline, op);
}

/** `concurrency` workers run `op` until it has been started `total` times. */
export function countedLoop(
  concurrency: number,
  total: number,
  op: (worker: number) => Promise<void>,
): Promise<LoopResult> {
  let started = 0;
  return drive(
    concurrency,
    () => {
      if (started >= total) return false;
      started += 1;
      return true;
    },
    op,
  );
}

/** Operations per second. */
export function rate(count: number, elapsedMs: number): number {
  return elapsedMs > 0 ? (count * 1000) / elapsedMs : Number.NaN;
}

import { performance } from 'node:perf_hooks';

export interface FloodResult {
  /** The slowest `GET /health` answer while the flood ran, in ms. */
  slowestHealthMs: number;
  /** How many attacks completed, by what each resolved to (e.g. the status). */
  outcomes: Map<string, number>;
}

/**
 * Runs `workers` loops of `attack` against the service for `durationMs` while probing
 * `GET /health` one request after another, and reports the slowest probe: a service whose event
 * loop an input blocks answers its health check late. Each attack resolves to a label of what
 * it got (a status, an acknowledgement), counted in `outcomes`.
 */
export async function healthUnderFlood(
  url: string,
  attack: () => Promise<string>,
  { workers, durationMs = 2000 }: { workers: number; durationMs?: number },
): Promise<FloodResult> {
  const outcomes = new Map<string, number>();
  let running = true;
  const loops = Array.from({ length: workers }, async () => {
    while (running) {
      const outcome = await attack().catch((error: Error) => `error: ${error.message}`);
      outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1);
    }
  });
  let slowestHealthMs = 0;
  const deadline = Date.now() + durationMs;
  try {
    while (Date.now() < deadline) {
      const started = performance.now();
      const response = await fetch(`${url}/health`);
      await response.arrayBuffer();
      slowestHealthMs = Math.max(slowestHealthMs, performance.now() - started);
    }
  } finally {
    running = false;
    await Promise.all(loops);
  }
  return { slowestHealthMs, outcomes };
}

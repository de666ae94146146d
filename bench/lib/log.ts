/** Progress goes to stderr, so stdout carries only the results table. */

const started = Date.now();

function stamp(): string {
  return `[${((Date.now() - started) / 1000).toFixed(1).padStart(6)}s]`;
}

/** One line of progress. */
export function info(message: string): void {
  process.stderr.write(`${stamp()} ${message}\n`);
}

/** A warning that does not stop the run. */
export function warn(message: string): void {
  process.stderr.write(`${stamp()} warning: ${message}\n`);
}

/** A progress counter for long loops: prints at most about every `everyMs`, and at the end. */
export function progress(label: string, total: number, everyMs = 1000): (done: number) => void {
  let last = 0;
  return (done: number) => {
    const now = Date.now();
    if (done < total && now - last < everyMs) return;
    last = now;
    const percent = total > 0 ? Math.floor((done / total) * 100) : 100;
    info(
      `${label}: ${done.toLocaleString('en-US')} / ${total.toLocaleString('en-US')} (${percent}%)`,
    );
  };
}

/** Waits `ms` milliseconds. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Rejects with `message` when `promise` takes longer than `ms`. */
export async function withTimeout<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${message} (after ${ms} ms)`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

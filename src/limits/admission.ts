import { ServiceUnavailableException } from '@nestjs/common';

/** Work refused for now: the send route answers 503 with `Retry-After` (RetryAfterInterceptor). */
export class RetryLaterException extends ServiceUnavailableException {
  constructor(
    message: string,
    readonly retryAfterSeconds: number,
  ) {
    super(message);
  }
}

export interface AdmissionOptions {
  /** Units of work in flight at once; a single request larger than this runs alone. */
  capacity: number;
  /** Requests that may wait for room; one more is refused at once. */
  maxWaiting: number;
  /** How long a request may wait for room before it is refused. */
  maxWaitMs: number;
  /** What a refusal says, and when to try again. */
  busyMessage: string;
  retryAfterSeconds: number;
}

interface Waiter {
  units: number;
  resolve: () => void;
  reject: (error: unknown) => void;
  timer: NodeJS.Timeout;
}

/**
 * A bounded amount of work in flight, and a bounded, first-come-first-served queue of work
 * waiting for room. Past the queue, or after waiting too long, work is refused with
 * RetryLaterException: memory stays bounded however many requests arrive at once.
 */
export class Admission {
  private used = 0;
  private readonly waiting: Waiter[] = [];

  constructor(private readonly options: AdmissionOptions) {}

  /** Units in flight now. */
  get inUse(): number {
    return this.used;
  }

  /** Requests waiting now. */
  get queued(): number {
    return this.waiting.length;
  }

  /** Takes `units` once they are free (after those who came first); rejects when refused. */
  acquire(units: number): Promise<void> {
    if (this.waiting.length === 0 && this.fits(units)) {
      this.used += units;
      return Promise.resolve();
    }
    if (this.waiting.length >= this.options.maxWaiting) return Promise.reject(this.busy());
    return new Promise<void>((resolve, reject) => {
      const waiter: Waiter = {
        units,
        resolve,
        reject,
        timer: setTimeout(() => {
          this.waiting.splice(this.waiting.indexOf(waiter), 1);
          reject(this.busy());
          // Whoever queued behind it may fit now.
          this.admitWaiting();
        }, this.options.maxWaitMs),
      };
      waiter.timer.unref();
      this.waiting.push(waiter);
    });
  }

  /**
   * Takes `units` at once, even past capacity: for work that can no longer wait (it is
   * committed). Later `acquire`s wait until it is released.
   */
  take(units: number): void {
    this.used += units;
  }

  /** Gives back units taken by `acquire` or `take`. */
  release(units: number): void {
    this.used -= units;
    this.admitWaiting();
  }

  private fits(units: number): boolean {
    return this.used === 0 || this.used + units <= this.options.capacity;
  }

  private admitWaiting(): void {
    while (this.waiting.length > 0 && this.fits(this.waiting[0].units)) {
      const waiter = this.waiting.shift()!;
      clearTimeout(waiter.timer);
      this.used += waiter.units;
      waiter.resolve();
    }
  }

  private busy(): RetryLaterException {
    return new RetryLaterException(this.options.busyMessage, this.options.retryAfterSeconds);
  }
}

import { Admission, RetryLaterException } from './admission';

function admission(overrides: Partial<ConstructorParameters<typeof Admission>[0]> = {}) {
  return new Admission({
    capacity: 10,
    maxWaiting: 2,
    maxWaitMs: 60_000,
    busyMessage: 'busy',
    retryAfterSeconds: 5,
    ...overrides,
  });
}

/** Whether `promise` has settled after pending microtasks ran. */
async function settled(promise: Promise<unknown>): Promise<boolean> {
  let done = false;
  promise.then(
    () => (done = true),
    () => (done = true),
  );
  await new Promise((resolve) => setImmediate(resolve));
  return done;
}

describe('Admission', () => {
  afterEach(() => jest.useRealTimers());

  it('admits work while it fits, then makes later work wait its turn, first come first served', async () => {
    const gate = admission();
    await gate.acquire(6);
    const big = gate.acquire(6);
    const small = gate.acquire(1);
    // The small one would fit, but it came after the big one.
    expect(await settled(big)).toBe(false);
    expect(await settled(small)).toBe(false);
    gate.release(6);
    await expect(big).resolves.toBeUndefined();
    await expect(small).resolves.toBeUndefined();
    expect(gate.inUse).toBe(7);
  });

  it('runs work larger than the capacity alone', async () => {
    const gate = admission();
    await gate.acquire(25);
    const next = gate.acquire(1);
    expect(await settled(next)).toBe(false);
    gate.release(25);
    await expect(next).resolves.toBeUndefined();
  });

  it('refuses at once past the waiting queue, with when to retry', async () => {
    const gate = admission();
    await gate.acquire(10);
    const waiting = [gate.acquire(1), gate.acquire(1)];
    const refused = gate.acquire(1);
    await expect(refused).rejects.toBeInstanceOf(RetryLaterException);
    await expect(refused).rejects.toMatchObject({ retryAfterSeconds: 5, message: 'busy' });
    expect(await settled(waiting[0])).toBe(false);
    expect(gate.queued).toBe(2);
    // Settle the waiters, so no refusal fires later, in whatever test runs then.
    gate.release(10);
    await Promise.all(waiting);
  });

  it('refuses work that waited too long, and lets the next in line go', async () => {
    jest.useFakeTimers();
    const gate = admission({ maxWaitMs: 1000 });
    await gate.acquire(8);
    const big = gate.acquire(5);
    jest.advanceTimersByTime(500);
    const small = gate.acquire(2);
    jest.advanceTimersByTime(500);
    await expect(big).rejects.toBeInstanceOf(RetryLaterException);
    await expect(small).resolves.toBeUndefined();
    expect(gate.inUse).toBe(10);
    expect(gate.queued).toBe(0);
  });

  it('counts what is taken without waiting, and makes later work wait for it', async () => {
    const gate = admission();
    gate.take(30);
    const next = gate.acquire(1);
    expect(await settled(next)).toBe(false);
    gate.release(25);
    await expect(next).resolves.toBeUndefined();
    expect(gate.inUse).toBe(6);
  });
});

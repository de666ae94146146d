import { Coalescer, CoalescerTimeoutError } from './coalescer';

function deferred<T>() {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** Whether `promise` has settled yet, read at any later moment. */
function settlement(promise: Promise<unknown>): { settled: boolean } {
  const state = { settled: false };
  const settle = () => {
    state.settled = true;
  };
  promise.then(settle, settle);
  return state;
}

describe('Coalescer', () => {
  it('runs a lone call at once, by itself', async () => {
    const batches: number[][] = [];
    const coalescer = new Coalescer<number, number>(
      (inputs) => {
        batches.push(inputs);
        return Promise.resolve(inputs.map((n) => n * 2));
      },
      1,
      100,
    );
    await expect(coalescer.run(21)).resolves.toBe(42);
    expect(batches).toEqual([[21]]);
  });

  it('batches the calls made while a batch is in flight, in call order', async () => {
    const gates: Array<ReturnType<typeof deferred<void>>> = [];
    const batches: number[][] = [];
    const coalescer = new Coalescer<number, string>(
      async (inputs) => {
        batches.push(inputs);
        const gate = deferred<void>();
        gates.push(gate);
        await gate.promise;
        return inputs.map((n) => `#${n}`);
      },
      1,
      100,
    );
    const first = coalescer.run(1);
    const rest = [2, 3, 4].map((n) => coalescer.run(n));
    expect(batches).toEqual([[1]]);
    gates[0].resolve();
    await expect(first).resolves.toBe('#1');
    await Promise.resolve();
    expect(batches).toEqual([[1], [2, 3, 4]]);
    gates[1].resolve();
    await expect(Promise.all(rest)).resolves.toEqual(['#2', '#3', '#4']);
  });

  it('keeps at most maxInFlight batches running and at most maxBatch calls in one', async () => {
    const gates: Array<ReturnType<typeof deferred<void>>> = [];
    const batches: number[][] = [];
    const coalescer = new Coalescer<number, number>(
      async (inputs) => {
        batches.push(inputs);
        const gate = deferred<void>();
        gates.push(gate);
        await gate.promise;
        return inputs;
      },
      2,
      2,
    );
    const calls = [1, 2, 3, 4, 5, 6].map((n) => coalescer.run(n));
    expect(batches).toEqual([[1], [2]]);
    gates[0].resolve();
    await new Promise((resolve) => setImmediate(resolve));
    expect(batches).toEqual([[1], [2], [3, 4]]);
    gates[1].resolve();
    gates[2].resolve();
    await new Promise((resolve) => setImmediate(resolve));
    gates[3].resolve();
    await expect(Promise.all(calls)).resolves.toEqual([1, 2, 3, 4, 5, 6]);
  });

  it('rejects every call of a failed batch, and goes on with the next', async () => {
    let fail = true;
    const coalescer = new Coalescer<number, number>(
      (inputs) => (fail ? Promise.reject(new Error('boom')) : Promise.resolve(inputs)),
      1,
      100,
    );
    await expect(coalescer.run(1)).rejects.toThrow('boom');
    fail = false;
    await expect(coalescer.run(2)).resolves.toBe(2);
  });

  describe('with a timeout', () => {
    beforeEach(() => jest.useFakeTimers());
    afterEach(() => jest.useRealTimers());

    it('rejects a call stuck in a batch, and one queued behind it, once each has waited the bound', async () => {
      const batches: number[][] = [];
      const stuck = deferred<number[]>();
      const coalescer = new Coalescer<number, number>(
        (inputs) => {
          batches.push(inputs);
          return stuck.promise;
        },
        1,
        100,
        1000,
      );
      const first = coalescer.run(1);
      const firstState = settlement(first);
      await jest.advanceTimersByTimeAsync(400);
      const queued = coalescer.run(2);
      const queuedState = settlement(queued);

      await jest.advanceTimersByTimeAsync(599);
      expect(firstState.settled).toBe(false);
      await jest.advanceTimersByTimeAsync(1);
      await expect(first).rejects.toThrow(CoalescerTimeoutError);
      await expect(first).rejects.toMatchObject({ code: 'ETIMEDOUT' });

      // The queued call got the slot the stuck batch gave up; it still waits no more than its own bound.
      expect(batches).toEqual([[1], [2]]);
      await jest.advanceTimersByTimeAsync(399);
      expect(queuedState.settled).toBe(false);
      await jest.advanceTimersByTimeAsync(1);
      await expect(queued).rejects.toThrow(/no answer within 1000 ms/);
    });

    it('takes a call out of the queue when it gives up there, so no batch carries it', async () => {
      const batches: number[][] = [];
      const gates: Array<ReturnType<typeof deferred<void>>> = [];
      const coalescer = new Coalescer<number, number>(
        async (inputs) => {
          batches.push(inputs);
          const gate = deferred<void>();
          gates.push(gate);
          await gate.promise;
          return inputs;
        },
        1,
        1,
        1000,
      );
      const [first, second, third] = [1, 2, 3].map((n) => coalescer.run(n));
      second.catch(() => undefined);
      third.catch(() => undefined);
      await jest.advanceTimersByTimeAsync(500);
      gates[0].resolve();
      await expect(first).resolves.toBe(1);
      await jest.advanceTimersByTimeAsync(0);
      expect(batches).toEqual([[1], [2]]);
      await jest.advanceTimersByTimeAsync(500);
      // Both waited 1 s: the second in its batch, the third in the queue.
      await expect(second).rejects.toThrow(CoalescerTimeoutError);
      await expect(third).rejects.toThrow(CoalescerTimeoutError);
      gates[1].resolve();
      await jest.advanceTimersByTimeAsync(0);
      expect(batches).toEqual([[1], [2]]);
    });

    it('serves calls again once a batch that never settles has given up its slot', async () => {
      let stall = true;
      const coalescer = new Coalescer<number, number>(
        (inputs) => (stall ? new Promise<number[]>(() => undefined) : Promise.resolve(inputs)),
        1,
        100,
        1000,
      );
      const stuck = coalescer.run(1);
      stuck.catch(() => undefined);
      await jest.advanceTimersByTimeAsync(1000);
      await expect(stuck).rejects.toThrow(CoalescerTimeoutError);
      stall = false;
      await expect(coalescer.run(2)).resolves.toBe(2);
    });

    it('answers in time as without a timeout, and leaves no timer behind', async () => {
      const coalescer = new Coalescer<number, number>(
        (inputs) => Promise.resolve(inputs.map((n) => n + 1)),
        1,
        100,
        1000,
      );
      await expect(Promise.all([coalescer.run(1), coalescer.run(2)])).resolves.toEqual([2, 3]);
      expect(jest.getTimerCount()).toBe(0);
    });
  });
});

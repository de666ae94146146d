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
      { maxInFlight: 1, maxBatch: 100 },
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
      { maxInFlight: 1, maxBatch: 100 },
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
      { maxInFlight: 2, maxBatch: 2 },
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
      { maxInFlight: 1, maxBatch: 100 },
    );
    await expect(coalescer.run(1)).rejects.toThrow('boom');
    fail = false;
    await expect(coalescer.run(2)).resolves.toBe(2);
  });

  describe('with keyOf', () => {
    it('lets a call join a waiting call with the same key, never one in flight', async () => {
      const gates: Array<ReturnType<typeof deferred<void>>> = [];
      const batches: string[][] = [];
      let reads = 0;
      const coalescer = new Coalescer<string, string>(
        async (inputs) => {
          batches.push(inputs);
          const gate = deferred<void>();
          gates.push(gate);
          await gate.promise;
          reads += 1;
          return inputs.map((key) => `${key}@${reads}`);
        },
        { maxInFlight: 1, maxBatch: 100, keyOf: (key) => key },
      );
      const first = coalescer.run('a');
      // Asked while 'a' is in flight: must not share its (possibly earlier) answer.
      const later = ['a', 'b', 'a', 'a', 'b'].map((key) => coalescer.run(key));
      expect(batches).toEqual([['a']]);
      gates[0].resolve();
      await expect(first).resolves.toBe('a@1');
      await Promise.resolve();
      expect(batches).toEqual([['a'], ['a', 'b']]);
      gates[1].resolve();
      await expect(Promise.all(later)).resolves.toEqual(['a@2', 'b@2', 'a@2', 'a@2', 'b@2']);
    });

    it('runs a key in one batch at a time, letting other keys use the free slots', async () => {
      const gates = new Map<string, ReturnType<typeof deferred<void>>>();
      const batches: string[][] = [];
      const coalescer = new Coalescer<string, string>(
        async (inputs) => {
          batches.push(inputs);
          const gate = deferred<void>();
          gates.set(inputs.join(), gate);
          await gate.promise;
          return inputs;
        },
        { maxInFlight: 2, maxBatch: 100, keyOf: (key) => key },
      );
      const busy = coalescer.run('busy');
      const again = coalescer.run('busy');
      const other = coalescer.run('other');
      // The second slot goes to 'other'; the second 'busy' waits for the first.
      expect(batches).toEqual([['busy'], ['other']]);
      gates.get('other')!.resolve();
      await expect(other).resolves.toBe('other');
      expect(batches).toEqual([['busy'], ['other']]);
      gates.get('busy')!.resolve();
      await busy;
      await new Promise((resolve) => setImmediate(resolve));
      expect(batches).toEqual([['busy'], ['other'], ['busy']]);
      gates.get('busy')!.resolve();
      await expect(again).resolves.toBe('busy');
    });

    it('rejects every call that joined a failed input', async () => {
      const gate = deferred<void>();
      let calls = 0;
      const coalescer = new Coalescer<number, number>(
        async (inputs) => {
          calls += 1;
          if (calls === 1) {
            await gate.promise;
            return inputs;
          }
          throw new Error('boom');
        },
        { maxInFlight: 1, maxBatch: 100, keyOf: (n) => n },
      );
      const first = coalescer.run(1);
      const joined = [coalescer.run(2), coalescer.run(2)];
      gate.resolve();
      await first;
      await expect(joined[0]).rejects.toThrow('boom');
      await expect(joined[1]).rejects.toThrow('boom');
      expect(calls).toBe(2);
    });
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
        { maxInFlight: 1, maxBatch: 100, timeoutMs: 1000 },
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
        { maxInFlight: 1, maxBatch: 1, timeoutMs: 1000 },
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
        { maxInFlight: 1, maxBatch: 100, timeoutMs: 1000 },
      );
      const stuck = coalescer.run(1);
      stuck.catch(() => undefined);
      await jest.advanceTimersByTimeAsync(1000);
      await expect(stuck).rejects.toThrow(CoalescerTimeoutError);
      stall = false;
      await expect(coalescer.run(2)).resolves.toBe(2);
    });

    it('with keyOf, frees a stuck key once its batch gives up, and keeps joined calls apart', async () => {
      let stall = true;
      const coalescer = new Coalescer<number, number>(
        (inputs) => (stall ? new Promise<number[]>(() => undefined) : Promise.resolve(inputs)),
        { maxInFlight: 1, maxBatch: 100, keyOf: (n) => n, timeoutMs: 1000 },
      );
      const stuck = coalescer.run(7);
      stuck.catch(() => undefined);
      await jest.advanceTimersByTimeAsync(600);
      // Joins a queued call for key 7 that waits behind the stuck batch.
      const early = coalescer.run(7);
      early.catch(() => undefined);
      stall = false;
      await jest.advanceTimersByTimeAsync(400);
      await expect(stuck).rejects.toThrow(CoalescerTimeoutError);
      // The key is free again: the waiting call ran, and a new one runs at once.
      await expect(early).resolves.toBe(7);
      await expect(coalescer.run(7)).resolves.toBe(7);
    });

    it('answers in time as without a timeout, and leaves no timer behind', async () => {
      const coalescer = new Coalescer<number, number>(
        (inputs) => Promise.resolve(inputs.map((n) => n + 1)),
        { maxInFlight: 1, maxBatch: 100, timeoutMs: 1000 },
      );
      await expect(Promise.all([coalescer.run(1), coalescer.run(2)])).resolves.toEqual([2, 3]);
      expect(jest.getTimerCount()).toBe(0);
    });
  });
});

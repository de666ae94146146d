import { Coalescer } from './coalescer';

function deferred<T>() {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
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
        1,
        100,
        (key) => key,
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
        2,
        100,
        (key) => key,
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
        1,
        100,
        (n) => n,
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
});

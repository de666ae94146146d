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
});

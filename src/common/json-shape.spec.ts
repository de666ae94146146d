import { jsonShapeProblem, rawJsonShapeProblem } from './json-shape';

const raw = (text: string) => rawJsonShapeProblem(Buffer.from(text));
const limits = { depth: 3, keys: 2, elements: 3 };

describe('rawJsonShapeProblem', () => {
  it.each([
    ['{}'],
    ['[]'],
    ['"a string"'],
    ['[1,2,3]'],
    ['{"a":1,"b":[1,[2]]}'],
    ['{"a":"[[[[{{{,,,"}'],
    ['{"a":"\\"[[[[,,,,"}'],
    ['{"a":"\\\\","b":1}'],
    ['[ 1 , 2 , 3 ]'],
    ['[[[]]]'],
  ])('accepts %s', (text) => {
    expect(rawJsonShapeProblem(Buffer.from(text), limits)).toBeUndefined();
    expect(jsonShapeProblem(JSON.parse(text), limits)).toBeUndefined();
  });

  it.each([
    ['[[[[]]]]', /deeper than 3/],
    ['{"a":{"b":{"c":{}}}}', /deeper than 3/],
    ['{"a":1,"b":2,"c":3}', /more than 2 keys/],
    ['{"a":1,"b":{"x":1,"y":2,"z":3}}', /more than 2 keys/],
    ['[1,2,3,4]', /more than 3 elements/],
    ['[[1],[2],["a","b","c","d"]]', /more than 3 elements/],
    ['{"a":"\\\\","b":1,"c":2}', /more than 2 keys/],
  ])('refuses %s', (text, message) => {
    expect(rawJsonShapeProblem(Buffer.from(text), limits)).toMatch(message);
    expect(jsonShapeProblem(JSON.parse(text), limits)).toMatch(message);
  });

  it('counts exactly at the contract’s limits', () => {
    const nested = (levels: number) => '['.repeat(levels) + ']'.repeat(levels);
    expect(raw(nested(32))).toBeUndefined();
    expect(raw(nested(33))).toMatch(/32 levels/);
    const object = (keys: number) =>
      `{${Array.from({ length: keys }, (_, i) => `"k${i}":1`).join(',')}}`;
    expect(raw(object(1000))).toBeUndefined();
    expect(raw(object(1001))).toMatch(/1000 keys/);
    expect(raw(`[${'1,'.repeat(9999)}1]`)).toBeUndefined();
    expect(raw(`[${'1,'.repeat(10_000)}1]`)).toMatch(/10000 elements/);
  });

  it('ignores multi-byte characters, whose bytes are never ASCII', () => {
    expect(raw('{"a":"ñ😀[","b":["é"]}')).toBeUndefined();
  });

  it('takes linear time: a 1 MiB body of brackets or keys in milliseconds', () => {
    const started = process.hrtime.bigint();
    raw('['.repeat(1024 * 1024));
    raw(`{${Array.from({ length: 100_000 }, (_, i) => `"k${i}":1`).join(',')}}`);
    expect(Number(process.hrtime.bigint() - started) / 1e6).toBeLessThan(500);
  });
});

describe('jsonShapeProblem', () => {
  it('takes binary attachments for leaves', () => {
    expect(jsonShapeProblem({ a: Buffer.alloc(10_000) }, limits)).toBeUndefined();
  });

  it('walks 100,000 levels without recursion', () => {
    let value: unknown = 1;
    for (let level = 0; level < 100_000; level += 1) value = [value];
    expect(jsonShapeProblem(value)).toMatch(/32 levels/);
  });
});

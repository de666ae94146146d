import { bearerToken } from './bearer-token';
import { hasCriticalHeader, userIdFromSubject } from './token-verifier';

describe('userIdFromSubject', () => {
  it.each([
    ['1', 1],
    [1, 1],
    ['42', 42],
    [42, 42],
    ['2147483647', 2_147_483_647],
    [2_147_483_647, 2_147_483_647],
    [1e3, 1000],
  ])('reads %j as user %d', (sub, id) => {
    expect(userIdFromSubject(sub)).toBe(id);
  });

  it.each([
    ['0'],
    [0],
    ['-1'],
    [-1],
    ['1.5'],
    [1.5],
    ['01'],
    [' 1'],
    ['1 '],
    ['1e3'],
    ['0x10'],
    ['abc'],
    [''],
    // Past the users.id integer column: a query with it would fail, so it is no user.
    ['2147483648'],
    [2_147_483_648],
    ['99999999999'],
    [1e21],
    [Number.NaN],
    [Number.POSITIVE_INFINITY],
    [null],
    [undefined],
    [true],
    [[1]],
    [{ id: 1 }],
  ])('rejects %j', (sub) => {
    expect(userIdFromSubject(sub)).toBeUndefined();
  });
});

describe('bearerToken', () => {
  it.each([
    ['Bearer abc.def.ghi', 'abc.def.ghi'],
    // RFC 7235: the scheme name is case-insensitive.
    ['bearer abc.def.ghi', 'abc.def.ghi'],
    ['BEARER abc.def.ghi', 'abc.def.ghi'],
    ['Bearer   abc.def.ghi  ', 'abc.def.ghi'],
  ])('takes the token from %j', (header, token) => {
    expect(bearerToken(header)).toBe(token);
  });

  it.each([
    [undefined],
    [''],
    ['Bearer'],
    ['Bearer '],
    ['abc.def.ghi'],
    ['Basic dXNlcjpwYXNz'],
    ['Token abc.def.ghi'],
    ['Bearer abc def'],
    ['XBearer abc.def.ghi'],
    ['Bearerabc.def.ghi'],
  ])('finds no token in %j', (header) => {
    expect(bearerToken(header)).toBeUndefined();
  });
});

describe('hasCriticalHeader', () => {
  const token = (header: object) =>
    `${Buffer.from(JSON.stringify(header)).toString('base64url')}.e30.c2ln`;

  it('finds crit, whatever it lists', () => {
    expect(hasCriticalHeader(token({ alg: 'HS256', crit: ['exp'], exp: 1 }))).toBe(true);
    expect(hasCriticalHeader(token({ alg: 'HS256', crit: [] }))).toBe(true);
  });

  it('passes headers without crit, and leaves garbage to verification', () => {
    expect(hasCriticalHeader(token({ alg: 'HS256', typ: 'JWT' }))).toBe(false);
    expect(hasCriticalHeader('not-a-jwt')).toBe(false);
    expect(hasCriticalHeader('')).toBe(false);
  });
});

import { ConfigError, parseConfig } from './configuration';

function errorOf(env: Record<string, unknown>): string {
  try {
    parseConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return error.message;
    throw error;
  }
  throw new Error(`parseConfig accepted ${JSON.stringify(env)}`);
}

describe('parseConfig: abuse limits and HOST', () => {
  it('takes 0 as "no limit" for the rate limits', () => {
    expect(
      parseConfig({ HTTP_RATE_LIMIT_PER_MINUTE: '0', SOCKET_RATE_LIMIT_PER_MINUTE: '0' }),
    ).toMatchObject({ httpRateLimitPerMinute: 0, socketRateLimitPerMinute: 0 });
  });

  it.each([
    ['HTTP_RATE_LIMIT_PER_MINUTE', 'lots'],
    ['HTTP_RATE_LIMIT_PER_MINUTE', '-1'],
    ['SOCKET_RATE_LIMIT_PER_MINUTE', '1.5'],
    ['MAX_SOCKETS_PER_USER', '0'],
    ['MAX_SOCKETS_PER_USER', '100001'],
  ])('rejects %s=%s naming the key', (key, value) => {
    expect(errorOf({ [key]: value })).toMatch(new RegExp(`^${key} must be a whole number`));
  });

  it.each(['127.0.0.1', '::1', '0.0.0.0', 'localhost', 'app-1.internal'])(
    'listens on HOST=%s',
    (value) => {
      expect(parseConfig({ HOST: value }).host).toBe(value);
    },
  );

  it.each(['http://localhost', '127.0.0.1:8000 ', 'two words'])('rejects HOST=%s', (value) => {
    expect(errorOf({ HOST: value })).toMatch(/^HOST must be a host name or an IP address/);
  });
});

describe('parseConfig: TRUST_PROXY', () => {
  it.each([undefined, '', 'false', '0'])('trusts no proxy for %p', (value) => {
    expect(parseConfig({ TRUST_PROXY: value }).trustProxy).toBe(false);
  });

  it('takes a hop count', () => {
    expect(parseConfig({ TRUST_PROXY: '2' }).trustProxy).toBe(2);
  });

  it('takes addresses, CIDRs and the range names Express knows, comma-separated', () => {
    expect(
      parseConfig({ TRUST_PROXY: '10.0.0.0/8, 172.16.0.7,fd00::/8 ,::1,loopback,uniquelocal' })
        .trustProxy,
    ).toEqual(['10.0.0.0/8', '172.16.0.7', 'fd00::/8', '::1', 'loopback', 'uniquelocal']);
  });

  it('refuses true, which would believe any client', () => {
    expect(errorOf({ TRUST_PROXY: 'true' })).toMatch(
      /^TRUST_PROXY must be .*true would believe any client's X-Forwarded-For$/,
    );
  });

  it.each([
    'nginx',
    '10.0.0.0/33',
    '::/129',
    '10.0.0.1/8/1',
    '10.0.0.0/',
    '1.2.3',
    '10.0.0.1,',
    '101',
  ])('refuses %p naming the key', (value) => {
    expect(errorOf({ TRUST_PROXY: value })).toMatch(/^TRUST_PROXY must be/);
  });
});

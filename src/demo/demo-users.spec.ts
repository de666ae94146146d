import { demoPolicy, isLoopbackAddress } from './demo-users';

describe('demoPolicy', () => {
  it.each([
    ['development', false, { page: true, minting: true }],
    ['test', false, { page: true, minting: true }],
    ['production', false, { page: false, minting: false }],
    ['production', true, { page: true, minting: false }],
    ['development', true, { page: true, minting: true }],
  ])('%s with DEMO_ENABLED=%s → %j', (nodeEnv, demoEnabled, policy) => {
    expect(demoPolicy({ nodeEnv, demoEnabled })).toEqual(policy);
  });
});

describe('isLoopbackAddress', () => {
  it.each(['127.0.0.1', '127.1.2.3', '::1', '::ffff:127.0.0.1', '::FFFF:127.0.0.9'])(
    '%s is loopback',
    (address) => {
      expect(isLoopbackAddress(address)).toBe(true);
    },
  );

  it.each([
    undefined,
    '',
    '192.0.2.2',
    '10.0.0.1',
    '::ffff:192.0.2.2',
    'fd00::2',
    '::',
    '0.0.0.0',
    '128.0.0.1',
    '127.0.0.1.example.com',
    '::ffff:127.0.0.1.nip.io',
  ])('%s is not', (address) => {
    expect(isLoopbackAddress(address)).toBe(false);
  });
});

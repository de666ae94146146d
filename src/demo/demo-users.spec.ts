import { demoPolicy } from './demo-users';

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

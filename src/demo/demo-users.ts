import { isIPv4 } from 'node:net';

/** Demo users are recognisable by name: the picker lists them and only they get minted tokens. */
export const DEMO_USERNAME_PREFIX = 'demo-';

/** The users the demo page offers on a fresh database (the seed adds more under the prefix). */
export const DEMO_USERS: ReadonlyArray<{ username: string; isStaff: boolean }> = [
  { username: 'demo-gerente', isStaff: true },
  { username: 'demo-cocina', isStaff: false },
  { username: 'demo-sala', isStaff: false },
  { username: 'demo-barra', isStaff: false },
];

/** Where the demo is served and what it may do, from the environment. */
export interface DemoPolicy {
  /** The page at `/` (and its script). */
  page: boolean;
  /** `/demo/users` and `/demo/token`: signing tokens for anyone who asks. */
  minting: boolean;
}

/**
 * Development serves the page and mints tokens. Production serves nothing unless
 * `DEMO_ENABLED=true`, and then only the page: a token-minting route in production would let
 * anyone act as a user.
 */
export function demoPolicy(config: { nodeEnv: string; demoEnabled: boolean }): DemoPolicy {
  const production = config.nodeEnv === 'production';
  return { page: !production || config.demoEnabled, minting: !production };
}

/**
 * True for an address of this machine's loopback interface: 127.0.0.0/8 and ::1, also as
 * IPv4-mapped IPv6 (`::ffff:127.0.0.1`, how a dual-stack socket reports an IPv4 peer).
 */
export function isLoopbackAddress(address: string | undefined): boolean {
  if (address === undefined) return false;
  const ipv4 = address.toLowerCase().replace(/^::ffff:/, '');
  return address === '::1' || (isIPv4(ipv4) && ipv4.startsWith('127.'));
}

import { AddressInfo, isIPv6 } from 'node:net';

/**
 * Where a server really listens: its own address, not `app.getUrl()`, which names [::1] (a
 * loopback address) for a server that listens on every interface.
 */
export function listeningOn({ address, port }: AddressInfo): string {
  if (address === '::' || address === '0.0.0.0') {
    return `every interface (${address}), port ${port}: http://localhost:${port} on this machine`;
  }
  return `http://${isIPv6(address) ? `[${address}]` : address}:${port}`;
}

/**
 * The one line start-up prints when it cannot listen (a host name that does not resolve, an
 * address not on this machine, a port in use), naming the keys as for any other bad setting.
 */
export function cannotListen(host: string | undefined, port: number, error: unknown): string {
  return (
    `Configuration error: cannot listen on HOST=${host ?? '(all interfaces)'} PORT=${port}: ` +
    `${(error as Error).message}\n`
  );
}

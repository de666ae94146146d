import { existsSync, readFileSync } from 'node:fs';
import { networkInterfaces } from 'node:os';

/**
 * An IPv4 address of this machine outside loopback (e.g. its LAN address), or undefined when it
 * has none. A connection from this machine to it comes from it too, so a server sees a
 * non-loopback peer: how a test plays a client on the network.
 */
export function nonLoopbackIPv4(): string | undefined {
  return Object.values(networkInterfaces())
    .flat()
    .find((address) => address?.family === 'IPv4' && !address.internal)?.address;
}

/** /proc/net/tcp writes each 32-bit word of an address in the host's (little-endian) order. */
function words(hex: string): number[][] {
  const bytes: number[][] = [];
  for (let at = 0; at < hex.length; at += 8) {
    const word = hex.slice(at, at + 8);
    bytes.push([6, 4, 2, 0].map((offset) => parseInt(word.slice(offset, offset + 2), 16)));
  }
  return bytes;
}

function addressOf(hex: string): string {
  const bytes = words(hex).flat();
  if (bytes.length === 4) return bytes.join('.');
  const groups: string[] = [];
  for (let at = 0; at < 16; at += 2) groups.push(((bytes[at] << 8) | bytes[at + 1]).toString(16));
  // Only the forms a test compares against: :: and ::1 and the rest written out.
  const full = groups.join(':');
  if (full === '0:0:0:0:0:0:0:0') return '::';
  if (full === '0:0:0:0:0:0:0:1') return '::1';
  return full;
}

const LISTEN = '0A';

/**
 * The local addresses TCP sockets listen on at `port`, read from the kernel (Linux), e.g.
 * `['127.0.0.1']` or `['::']`; undefined where /proc/net is not there to read.
 */
export function listeningAddresses(port: number): string[] | undefined {
  const tables = ['/proc/net/tcp', '/proc/net/tcp6'].filter((table) => existsSync(table));
  if (tables.length === 0) return undefined;
  const found: string[] = [];
  for (const table of tables) {
    for (const line of readFileSync(table, 'utf8').split('\n').slice(1)) {
      const [, local, , state] = line.trim().split(/\s+/);
      if (!local || state !== LISTEN) continue;
      const [address, portHex] = local.split(':');
      if (parseInt(portHex, 16) === port) found.push(addressOf(address));
    }
  }
  return found.sort();
}

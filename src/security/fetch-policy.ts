import { BlockList, isIP } from 'node:net';

/** Loopback, private, link-local (cloud metadata), carrier-grade NAT, unspecified and unique-local addresses. */
const INTERNAL = new BlockList();
for (const [net, prefix] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['224.0.0.0', 3],
] as const) {
  INTERNAL.addSubnet(net, prefix, 'ipv4');
}
for (const [net, prefix] of [
  ['::', 128],
  ['::1', 128],
  ['fc00::', 7],
  ['fe80::', 10],
  ['ff00::', 8],
] as const) {
  INTERNAL.addSubnet(net, prefix, 'ipv6');
}

/**
 * For by-reference uploads (fetchUpload's `allowUrl`): refuses URLs whose host
 * is an internal address or a localhost name, so that a client cannot make the
 * service fetch from its own network (SSRF), e.g. a cloud metadata endpoint.
 * The WHATWG URL parser has already turned 2130706433 or 0x7f.1 into
 * 127.0.0.1. A public name that resolves to an internal address is not caught
 * here (that needs the check at connect time); a firewall rule for the
 * service's outgoing traffic is the complete answer.
 */
export function isPublicUrl(url: URL): boolean {
  const host = url.hostname.replace(/^\[|\]$/g, '').toLowerCase();
  if (host === 'localhost' || host.endsWith('.localhost') || host === '') return false;
  const family = isIP(host);
  if (family === 0) return true;
  if (family === 4) return !INTERNAL.check(host, 'ipv4');
  const mapped =
    /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(host) ?? /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(host);
  if (mapped) {
    const v4 = mapped.length === 2 ? mapped[1]! : hexPairToIpv4(mapped[1]!, mapped[2]!);
    return !INTERNAL.check(v4, 'ipv4');
  }
  return !INTERNAL.check(host, 'ipv6');
}

function hexPairToIpv4(high: string, low: string): string {
  const h = Number.parseInt(high, 16);
  const l = Number.parseInt(low, 16);
  return `${h >> 8}.${h & 255}.${l >> 8}.${l & 255}`;
}

import { BlockList, isIP } from 'node:net';
import { ABSENT, type AuthOutcome, type AuthRequest, type AuthStrategy, ownerIdProblem } from './types.js';

export interface ProxyHeaderOptions {
  /** The header the reverse proxy sets to the user it authenticated (default x-remote-user). */
  readonly header?: string;
  /** Addresses or CIDR blocks of the proxies; the header from anyone else is ignored. */
  readonly trustedProxies: readonly string[];
}

/** Parses `10.0.0.0/8`, `::1`, `fd00::/8`... into a BlockList; throws naming the bad entry. */
export function addressList(entries: readonly string[], what = 'trustedProxies'): BlockList {
  const list = new BlockList();
  for (const entry of entries) {
    const [address = '', prefixText, extra] = entry.trim().split('/');
    const family = isIP(address);
    const max = family === 4 ? 32 : 128;
    const prefix = prefixText === undefined ? max : Number(prefixText);
    if (
      family === 0 ||
      extra !== undefined ||
      (prefixText !== undefined && !/^\d{1,3}$/.test(prefixText)) ||
      prefix > max
    ) {
      throw new Error(`${what}: '${entry}' is not an IP address or CIDR block`);
    }
    list.addSubnet(address, prefix, family === 4 ? 'ipv4' : 'ipv6');
  }
  return list;
}

/** Whether the peer `address` is in `list`; IPv4 peers seen on an IPv6 socket (::ffff:a.b.c.d) count as IPv4. */
export function addressIn(list: BlockList, address: string | undefined): boolean {
  if (!address) return false;
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  const plain = mapped ? mapped[1]! : address;
  const family = isIP(plain);
  if (family === 0) return false;
  return list.check(plain, family === 4 ? 'ipv4' : 'ipv6');
}

/**
 * A reverse proxy that authenticated the user (Shibboleth, OIDC, client
 * certificates...) says who it is in a header. The header is believed only
 * when the TCP peer is one of the configured proxies; from anyone else it is
 * ignored, as if absent (the proxy must also strip it from clients' requests).
 */
export function proxyHeaderStrategy(options: ProxyHeaderOptions): AuthStrategy {
  const header = (options.header ?? 'x-remote-user').toLowerCase();
  if (options.trustedProxies.length === 0) {
    throw new Error('auth.proxyHeader.trustedProxies is empty: name the proxies whose header is believed');
  }
  const proxies = addressList(options.trustedProxies, 'auth.proxyHeader.trustedProxies');
  return {
    name: 'proxy-header',
    async identify(request: AuthRequest): Promise<AuthOutcome> {
      const value = request.headers[header];
      if (value === undefined) return ABSENT;
      if (!addressIn(proxies, request.remoteAddress)) return ABSENT;
      if (typeof value !== 'string') return { kind: 'refused', reason: `${header} was sent more than once` };
      const owner = value.trim();
      const problem = ownerIdProblem(owner);
      if (problem) return { kind: 'refused', reason: `${header} is not a usable owner: ${problem}` };
      return { kind: 'owner', ownerId: owner };
    },
  };
}

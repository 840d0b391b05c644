import { lookup as dnsLookup } from 'node:dns/promises';
import type { LookupFunction } from 'node:net';
import { BlockList, isIP, isIPv4 } from 'node:net';

/** Resolves a host name to every address it has (dns.lookup with `all: true`). */
export type Resolver = (hostname: string) => Promise<{ address: string; family: number }[]>;

export const systemResolver: Resolver = (hostname) => dnsLookup(hostname, { all: true, verbatim: true });

/** The longest webhook URL accepted. */
export const MAX_WEBHOOK_URL_LENGTH = 2048;

/** Why a delivery target is refused: the `lastError` of a delivery, the message of a 400. */
export const PRIVATE_ADDRESS = 'target refused: private address';

// Not globally reachable (RFC 6890 and the IANA special-purpose registries): loopback, private,
// CGNAT, link-local, "this network", benchmarking, documentation, multicast, reserved, broadcast.
const IPV4_REFUSED: [string, number][] = [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.0.2.0', 24],
  ['192.88.99.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['198.51.100.0', 24],
  ['203.0.113.0', 24],
  ['224.0.0.0', 4],
  ['240.0.0.0', 4],
];
// Inside global unicast (2000::/3), the ranges that are not public: Teredo (an IPv4 address
// hidden in it), ORCHIDs and other IETF assignments, documentation.
const IPV6_REFUSED_IN_GLOBAL: [string, number][] = [
  ['2001::', 23],
  ['2001:db8::', 32],
  ['3fff::', 20],
];

const refusedV4 = new BlockList();
for (const [network, prefix] of IPV4_REFUSED) refusedV4.addSubnet(network, prefix, 'ipv4');
const refusedV6 = new BlockList();
for (const [network, prefix] of IPV6_REFUSED_IN_GLOBAL) refusedV6.addSubnet(network, prefix, 'ipv6');
const globalUnicastV6 = new BlockList();
globalUnicastV6.addSubnet('2000::', 3, 'ipv6');

/** The eight 16-bit groups of an IPv6 address (`::` expanded, a dotted IPv4 tail converted). */
function groupsOf(address: string): number[] {
  let text = address.toLowerCase().split('%')[0];
  const dotted = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (dotted) {
    const [a, b, c, d] = dotted[1].split('.').map(Number);
    text = `${text.slice(0, -dotted[1].length)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head, tail] = text.includes('::') ? text.split('::') : [text, undefined];
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  const missing = tail === undefined ? 0 : 8 - left.length - right.length;
  return [...left, ...Array<string>(missing).fill('0'), ...right].map((group) => parseInt(group, 16));
}

const v4From = (high: number, low: number): string => `${high >> 8}.${high & 255}.${low >> 8}.${low & 255}`;

/**
 * The IPv4 address an IPv6 address carries, for the forms that reach an IPv4 host: mapped
 * (::ffff:a.b.c.d), the deprecated compatible form (::a.b.c.d), NAT64 (64:ff9b::/96) and 6to4
 * (2002:aabb:ccdd::/48).
 */
function embeddedV4(groups: number[]): string | undefined {
  const zeros = (from: number, to: number): boolean => groups.slice(from, to).every((g) => g === 0);
  if (zeros(0, 5) && (groups[5] === 0xffff || groups[5] === 0)) return v4From(groups[6], groups[7]);
  if (groups[0] === 0x64 && groups[1] === 0xff9b && zeros(2, 6)) return v4From(groups[6], groups[7]);
  if (groups[0] === 0x2002) return v4From(groups[1], groups[2]);
  return undefined;
}

/**
 * Whether an IP address (v4 or v6, as text) is one a webhook may not reach when private
 * targets are not allowed: anything that is not a public unicast address. IPv6 must be global
 * unicast (2000::/3, which leaves out ::, ::1, fc00::/7, fe80::/10, ff00::/8…), and an IPv6
 * form carrying an IPv4 address is judged by that address. Anything unparsable is refused.
 */
export function isPrivateAddress(address: string): boolean {
  const version = isIP(address.split('%')[0]);
  if (version === 4) return refusedV4.check(address, 'ipv4');
  if (version !== 6) return true;
  const groups = groupsOf(address);
  if (groups.length !== 8 || groups.some((g) => Number.isNaN(g))) return true;
  const v4 = embeddedV4(groups);
  if (v4 !== undefined) return !isIPv4(v4) || refusedV4.check(v4, 'ipv4');
  const normalized = groups.map((g) => g.toString(16)).join(':');
  return !globalUnicastV6.check(normalized, 'ipv6') || refusedV6.check(normalized, 'ipv6');
}

/** A URL's host as an address or a name: brackets of an IPv6 literal removed. */
export function hostOf(url: URL): string {
  return url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
}

export interface TargetCheck {
  /** The parsed URL (absent when it does not parse). */
  url?: URL;
  /** Set when the URL may not be used: the message of the 400, the `lastError` of a delivery. */
  problem?: string;
}

/**
 * Where webhooks may point (contract §14, WEBHOOK_ALLOW_PRIVATE_TARGETS). Allowed private
 * targets: any http(s) URL. Otherwise https only, to hosts that are, or resolve only to, public
 * addresses; checked when a webhook is saved and again at each delivery, where the connection
 * goes to the very address that was checked (see `lookup`), so that a name re-pointed at a
 * private address in between (DNS rebinding) is refused too.
 */
export class WebhookTargets {
  constructor(
    readonly allowPrivate: boolean,
    private readonly resolve: Resolver = systemResolver,
  ) {}

  /** The URL's shape: scheme, credentials, and a literal address in the host. No DNS. */
  parse(text: string): TargetCheck {
    let url: URL;
    try {
      url = new URL(text);
    } catch {
      return { problem: 'url must be an absolute http or https URL' };
    }
    if (url.protocol !== 'https:' && url.protocol !== 'http:') {
      return { url, problem: 'url must be an http or https URL' };
    }
    if (url.username || url.password) return { url, problem: 'url must not contain credentials' };
    if (this.allowPrivate) return { url };
    if (url.protocol !== 'https:') return { url, problem: 'url must be an https URL' };
    const host = hostOf(url);
    if (isIP(host) && isPrivateAddress(host)) return { url, problem: PRIVATE_ADDRESS };
    return { url };
  }

  /** Everything `parse` checks, and that a host name resolves only to public addresses. */
  async check(text: string): Promise<TargetCheck> {
    const parsed = this.parse(text);
    if (!parsed.url || parsed.problem || this.allowPrivate) return parsed;
    const host = hostOf(parsed.url);
    if (isIP(host)) return parsed;
    const problem = await this.resolvePublic(host).then(
      () => undefined,
      (error: Error) => error.message,
    );
    return { url: parsed.url, problem };
  }

  /**
   * For http(s).request's `lookup`: resolves the name, refuses it unless every address is
   * allowed, and hands back the first checked address, which is the one the socket connects to.
   */
  readonly lookup: LookupFunction = (hostname, options, callback) => {
    this.resolvePublic(hostname).then(
      (addresses) => {
        if ((options as { all?: boolean }).all) callback(null, addresses);
        else callback(null, addresses[0].address, addresses[0].family);
      },
      (error: NodeJS.ErrnoException) => callback(error, '', 0),
    );
  };

  /** The name's addresses, all allowed; rejects with a short reason otherwise. */
  private async resolvePublic(hostname: string): Promise<{ address: string; family: number }[]> {
    let addresses: { address: string; family: number }[];
    try {
      addresses = await this.resolve(hostname);
    } catch {
      throw Object.assign(new Error('url host does not resolve'), { code: 'ENOTFOUND' });
    }
    if (addresses.length === 0) throw Object.assign(new Error('url host does not resolve'), { code: 'ENOTFOUND' });
    if (!this.allowPrivate && addresses.some((a) => isPrivateAddress(a.address))) {
      throw Object.assign(new Error(PRIVATE_ADDRESS), { code: 'EPRIVATE' });
    }
    return addresses;
  }
}

import ipaddr from 'ipaddr.js';
import { lookup } from 'node:dns/promises';
import { isIP, type LookupFunction } from 'node:net';

/**
 * Where a webhook may go outside local mode: only to public unicast
 * addresses. A webhook is a request our function makes on a tenant's behalf,
 * so a target that names (or resolves to) the function's own host, the VPC,
 * the instance metadata service or any other non-public range would let a
 * tenant make our function call it (SSRF). The ranges come from ipaddr.js
 * (the classifier express uses), not hand-written CIDR code.
 */

/** Every address a host name resolves to (A and AAAA). Injectable: tests have no DNS. */
export type Resolver = (hostname: string) => Promise<string[]>;

export const systemResolver: Resolver = async (hostname) => (await lookup(hostname, { all: true, verbatim: true })).map((a) => a.address);

/** What each refused range is, in words for the 400 message and the delivery log. */
const RANGE_WORDS: Record<string, string> = {
  unspecified: 'unspecified',
  broadcast: 'broadcast',
  multicast: 'multicast',
  linkLocal: 'link-local',
  loopback: 'loopback',
  carrierGradeNat: 'carrier-grade NAT',
  private: 'private (RFC 1918)',
  uniqueLocal: 'unique-local',
  reserved: 'reserved',
  rfc6145: 'IPv4-translated',
  rfc6052: 'NAT64',
  '6to4': '6to4',
  teredo: 'Teredo',
  deprecatedSiteLocal: 'site-local',
};

/**
 * IPv6 global unicast (2000::/3): everything outside it is special or
 * unassigned, including the IPv4-compatible ::a.b.c.d form ipaddr.js calls
 * plain unicast.
 */
const IPV6_GLOBAL_UNICAST = ipaddr.IPv6.parseCIDR('2000::/3');

/**
 * Why an IP address is not one a webhook may reach, or undefined if it is
 * public unicast. IPv4-mapped IPv6 (::ffff:a.b.c.d) is judged as the IPv4
 * address it maps to; NAT64, 6to4 and Teredo forms, which embed an IPv4
 * address a gateway would reach for us, are refused whatever they embed.
 */
export const addressProblem = (address: string): string | undefined => {
  const literal = address.replace(/^\[(.*)\]$/, '$1');
  if (!isIP(literal.split('%')[0] ?? '')) return `${address} is not an IP address`;
  const ip = ipaddr.process(literal);
  const range: string = ip.range();
  if (range === 'unicast' && (ip.kind() === 'ipv4' || ip.match(IPV6_GLOBAL_UNICAST))) return undefined;
  return `${address} is a ${RANGE_WORDS[range] ?? 'reserved'} address`;
};

/** A host name as the URL gives it, without IPv6 brackets or the trailing dot of a fully qualified name. */
const bareHost = (hostname: string): string =>
  hostname
    .toLowerCase()
    .replace(/^\[(.*)\]$/, '$1')
    .replace(/\.$/, '');

/**
 * The check that needs no DNS: an address literal must be public, and
 * `localhost` (with or without its trailing dot, and its subdomains, RFC
 * 6761) is refused by name. Other names are judged by what they resolve to.
 */
export const hostProblem = (hostname: string): string | undefined => {
  const host = bareHost(hostname);
  if (isIP(host)) return addressProblem(host);
  if (host === 'localhost' || host.endsWith('.localhost')) return `${hostname} names the local host`;
  return undefined;
};

/** A host judged: the addresses it was checked at, or why it is refused. */
type Checked = { addresses: string[]; problem?: undefined } | { problem: string };

/**
 * The whole check, with DNS: the host itself, then every address it
 * resolves to (one non-public address is enough to refuse: a client may
 * connect to any of them). The message names the range, not the address, so
 * a 400 does not tell a tenant what our private DNS answers.
 */
const checkHost = async (hostname: string, resolve: Resolver): Promise<Checked> => {
  const direct = hostProblem(hostname);
  if (direct) return { problem: direct };
  const host = bareHost(hostname);
  if (isIP(host)) return { addresses: [host] };
  let addresses: string[];
  try {
    addresses = await resolve(host);
  } catch {
    return { problem: `${hostname} does not resolve` };
  }
  if (addresses.length === 0) return { problem: `${hostname} does not resolve` };
  for (const address of addresses) {
    const problem = addressProblem(address);
    if (problem) return { problem: `${hostname} resolves to a non-public address (${problem.replace(`${address} is `, '')})` };
  }
  return { addresses };
};

export const resolvedHostProblem = async (hostname: string, resolve: Resolver): Promise<string | undefined> =>
  (await checkHost(hostname, resolve)).problem;

/** The error a refused connection fails with (the delivery is then retried, and dead-lettered in the end). */
export class AddressRefused extends Error {
  override name = 'AddressRefused';
}

/**
 * A `lookup` for net/tls connect that resolves the name once, checks every
 * address, and hands the socket only those checked addresses: the address
 * connected to is the address checked, so a name that answers a public
 * address at subscribe time and a private one at delivery time (DNS
 * rebinding) is refused at delivery time, with nothing sent.
 */
export const guardedLookup =
  (resolve: Resolver): LookupFunction =>
  (hostname, options, callback) => {
    const wanted = options.family === 'IPv4' ? 4 : options.family === 'IPv6' ? 6 : options.family;
    const refuse = (why: string) => callback(new AddressRefused(`webhook target refused: ${why}`), '', 0);
    // The callback is called outside the promise chain's error path, so a throw inside it is never taken for a lookup failure.
    checkHost(hostname, resolve).then(
      (checked) => {
        if (checked.problem !== undefined) return refuse(checked.problem);
        const addresses = checked.addresses.map((address) => ({ address, family: isIP(address) })).filter((a) => !wanted || a.family === wanted);
        const [first] = addresses;
        if (!first) return refuse(`${hostname} has no IPv${String(wanted)} address`);
        if (options.all) callback(null, addresses);
        else callback(null, first.address, first.family);
      },
      (error: unknown) => refuse(error instanceof Error ? error.message : String(error)),
    );
  };

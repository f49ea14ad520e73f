/**
 * Which push endpoints we send to: https, no credentials, and a host whose every address is public
 * (push.address.ts), so a subscription cannot turn the worker into a request forwarder into our
 * own network. The router checks when a subscription is saved; the worker checks again at each
 * send, inside the connection's own lookup (push.agent.ts), so the address it connects to is the
 * one it checked and a name that re-resolves elsewhere (DNS rebinding) gains nothing.
 *
 * Shared by the router (subscribe) and the worker (send). It lives with the worker that sends,
 * and the router imports it from here as it imports the rest of workers/src today, until the
 * router's imports of the workers move behind workers/tasks/.
 */
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { addressProblem } from './push.address.ts';

/** Longest endpoint URL we store. */
export const MAX_ENDPOINT_LENGTH = 2048;

/** Every address a host name resolves to (rejects when it does not resolve). */
export type ResolveHost = (name: string) => Promise<ReadonlyArray<{ address: string; family: number }>>;

/** The system resolver (getaddrinfo, as connections use it): every address, in its order. */
export const systemResolve: ResolveHost = (name) => lookup(name, { all: true, verbatim: true });

export interface PushEndpointPolicy {
  /**
   * Accept loopback, private and link-local addresses and local names (development, tests and
   * private deployments only). Cloud metadata, multicast, unspecified and reserved addresses are
   * refused even then. Default false.
   */
  allowPrivate: boolean;
  /** Resolves host names. Default: systemResolve. */
  resolve?: ResolveHost;
}

/** A push endpoint or host refused by the policy; `message` says why (for logs, not for clients). */
export class PushEndpointRefused extends Error {
  override readonly name = 'PushEndpointRefused';
  readonly code = 'push_endpoint_refused';
}

/** Instance metadata names: refused even where private names are allowed. */
const METADATA_NAMES = new Set(['metadata', 'metadata.google.internal', 'metadata.goog', 'instance-data', 'instance-data.ec2.internal']);

/** Special-use and private-use suffixes that never name a public push service. */
const LOCAL_SUFFIXES = ['localhost', 'local', 'localdomain', 'internal', 'intranet', 'lan', 'home', 'corp', 'private', 'home.arpa', 'test', 'invalid', 'example', 'onion', 'alt'];

/** A host as the URL parser gives it (lower case, IDNA, IPv4 in dotted form), its trailing dot removed. */
function normalHost(hostname: string): string {
  return hostname.replace(/^\[|\]$/g, '').toLowerCase().replace(/\.$/, '');
}

/** Why a host name (not an address) is refused before resolving it, or null. */
function nameProblem(name: string, allowPrivate: boolean): string | null {
  if (!name || name.startsWith('.') || name.endsWith('.') || name.includes('..')) return `${name} is not a host name`;
  if (METADATA_NAMES.has(name)) return `${name} is a cloud metadata name`;
  if (allowPrivate) return null;
  if (!name.includes('.')) return `${name} is a single-label (local) name`;
  const local = LOCAL_SUFFIXES.find((s) => name === s || name.endsWith(`.${s}`));
  return local ? `${name} is under .${local}, a local or special-use name` : null;
}

/**
 * The endpoint's URL, or why it is refused without resolving anything: length, scheme,
 * credentials, and the host (an IP literal in any form the URL parser accepts is judged as the
 * address it denotes; a name by its suffix).
 */
export function parsePushEndpoint(endpoint: string, policy: PushEndpointPolicy): URL {
  if (endpoint.length > MAX_ENDPOINT_LENGTH) throw new PushEndpointRefused('the endpoint is too long');
  if (!URL.canParse(endpoint)) throw new PushEndpointRefused('the endpoint is not a URL');
  const url = new URL(endpoint);
  if (url.protocol !== 'https:') throw new PushEndpointRefused('the endpoint must be https');
  if (url.username || url.password) throw new PushEndpointRefused('the endpoint must not carry credentials');
  const host = normalHost(url.hostname);
  const problem = isIP(host) ? addressProblem(host, policy.allowPrivate) : nameProblem(host, policy.allowPrivate);
  if (problem) throw new PushEndpointRefused(problem);
  return url;
}

/**
 * Every address of `hostname` once each has passed the policy; throws PushEndpointRefused when
 * the name is refused, does not resolve, or ANY of its addresses is not allowed (a connection may
 * use any of them). Errors of the resolver other than "no such name" pass through (transient).
 */
export async function checkedAddresses(hostname: string, policy: PushEndpointPolicy): Promise<Array<{ address: string; family: 4 | 6 }>> {
  const host = normalHost(hostname);
  if (isIP(host)) {
    const problem = addressProblem(host, policy.allowPrivate);
    if (problem) throw new PushEndpointRefused(problem);
    return [{ address: host, family: isIP(host) as 4 | 6 }];
  }
  const problem = nameProblem(host, policy.allowPrivate);
  if (problem) throw new PushEndpointRefused(problem);
  let found: ReadonlyArray<{ address: string; family: number }>;
  try {
    found = await (policy.resolve ?? systemResolve)(host);
  } catch (err) {
    const code = (err as { code?: string }).code;
    if (code === 'ENOTFOUND' || code === 'ENODATA') throw new PushEndpointRefused(`${host} does not resolve`);
    throw err;
  }
  if (found.length === 0) throw new PushEndpointRefused(`${host} does not resolve`);
  return found.map(({ address }) => {
    const problem = addressProblem(address, policy.allowPrivate);
    if (problem) throw new PushEndpointRefused(`${host} resolves to ${problem}`);
    return { address, family: isIP(address) as 4 | 6 };
  });
}

/**
 * Null when a subscription's endpoint is acceptable, otherwise why not (for the log): the URL,
 * then every address its host resolves to. A resolver failure counts as a refusal here: a
 * browser's endpoint that does not resolve now is not worth keeping.
 */
export async function pushEndpointProblem(endpoint: string, policy: PushEndpointPolicy): Promise<string | null> {
  try {
    const url = parsePushEndpoint(endpoint, policy);
    await checkedAddresses(url.hostname, policy);
    return null;
  } catch (err) {
    if (err instanceof PushEndpointRefused) return err.message;
    return `the endpoint's host could not be resolved (${(err as { code?: string }).code ?? 'error'})`;
  }
}

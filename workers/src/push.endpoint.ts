/**
 * Which push endpoints we will send to: https only, no credentials, and (unless allowed for local
 * development and tests) no loopback, private, link-local or otherwise internal address, so a
 * subscription cannot turn the worker into a request forwarder into our own network. Checked when
 * a subscription is saved and again before each send.
 */
import { BlockList, isIP } from 'node:net';

const internal = new BlockList();
for (const [net, prefix] of [['0.0.0.0', 8], ['10.0.0.0', 8], ['100.64.0.0', 10], ['127.0.0.0', 8], ['169.254.0.0', 16], ['172.16.0.0', 12], ['192.168.0.0', 16], ['198.18.0.0', 15], ['224.0.0.0', 3]] as const) {
  internal.addSubnet(net, prefix, 'ipv4');
}
for (const [net, prefix] of [['::', 127], ['::1', 128], ['fc00::', 7], ['fe80::', 10], ['::ffff:0:0', 96], ['ff00::', 8]] as const) {
  internal.addSubnet(net, prefix, 'ipv6');
}

/** Longest endpoint URL we store. */
export const MAX_ENDPOINT_LENGTH = 2048;

/** Null when the endpoint is acceptable, otherwise why not. */
export function pushEndpointProblem(endpoint: string, options: { allowPrivate: boolean }): string | null {
  if (endpoint.length > MAX_ENDPOINT_LENGTH) return 'the endpoint is too long';
  if (!URL.canParse(endpoint)) return 'the endpoint is not a URL';
  const url = new URL(endpoint);
  if (url.protocol !== 'https:') return 'the endpoint must be https';
  if (url.username || url.password) return 'the endpoint must not carry credentials';
  if (options.allowPrivate) return null;
  const host = url.hostname.replace(/^\[|\]$/g, '').toLowerCase();
  if (host === 'localhost' || host.endsWith('.localhost') || host.endsWith('.local') || host.endsWith('.internal') || !host.includes('.') && !isIP(host)) {
    return 'the endpoint must be a public host';
  }
  const family = isIP(host);
  if (family && internal.check(host, family === 4 ? 'ipv4' : 'ipv6')) return 'the endpoint must be a public address';
  return null;
}

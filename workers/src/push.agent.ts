/**
 * The HTTPS agent push requests go through. Its `lookup` is the send-time check: it resolves the
 * endpoint's host once, refuses it unless every address passes the policy, and hands the socket
 * only those checked addresses, so nothing resolves the name a second time between the check and
 * the connection (DNS rebinding). The host name itself is untouched: TLS still verifies the
 * certificate against it (SNI and Host as before). IP-literal hosts never reach a lookup; the
 * agent checks them before it connects.
 */
import { Agent, type AgentOptions, type RequestOptions } from 'node:https';
import { isIP, type LookupFunction } from 'node:net';
import type { Duplex } from 'node:stream';
import { addressProblem } from '../tasks/push.address.ts';
import { checkedAddresses, PushEndpointRefused, type PushEndpointPolicy } from '../tasks/push.endpoint.ts';

/** A `lookup` for sockets that resolves with the policy's resolver and returns only checked addresses. */
export function checkedLookup(policy: PushEndpointPolicy): LookupFunction {
  return (hostname, options, callback) => {
    checkedAddresses(hostname, policy).then(
      (addresses) => {
        const family = options.family === 'IPv4' ? 4 : options.family === 'IPv6' ? 6 : options.family;
        const wanted = family === 4 || family === 6 ? addresses.filter((a) => a.family === family) : addresses;
        if (wanted.length === 0) return callback(Object.assign(new Error(`${hostname} has no IPv${family} address`), { code: 'ENOTFOUND' }), '', 0);
        if (options.all) return callback(null, wanted);
        callback(null, wanted[0]!.address, wanted[0]!.family);
      },
      (err: NodeJS.ErrnoException) => callback(err, '', 0),
    );
  };
}

export interface PushAgentOptions {
  /** CA certificates (PEM) trusted instead of the system's (tests' local push service). Default: the system's. */
  ca?: string;
}

/** A keep-alive agent whose connections go only to addresses the policy allowed. */
export function pushAgent(policy: PushEndpointPolicy, options: PushAgentOptions = {}): Agent {
  return new CheckingAgent(policy, { keepAlive: true, lookup: checkedLookup(policy), ...(options.ca ? { ca: options.ca } : {}) });
}

class CheckingAgent extends Agent {
  private readonly policy: PushEndpointPolicy;

  constructor(
    policy: PushEndpointPolicy,
    options: AgentOptions,
  ) {
    super(options);
    this.policy = policy;
  }

  // A socket does no lookup for an IP-literal host, so it is checked here, whichever parser read the URL.
  override createConnection(options: RequestOptions, callback?: (err: Error | null, stream: Duplex) => void): Duplex | null | undefined {
    const host = String(options.host ?? options.hostname ?? '').replace(/^\[|\]$/g, '');
    const problem = isIP(host) ? addressProblem(host, this.policy.allowPrivate) : null;
    if (!problem) return super.createConnection(options, callback);
    // Through the callback, the request emits it as an 'error' like any failed connection.
    if (!callback) throw new PushEndpointRefused(problem);
    callback(new PushEndpointRefused(problem), undefined as never);
    return undefined;
  }
}

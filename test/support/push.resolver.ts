/**
 * DNS for the push endpoint policy's tests, without a network: a resolver answering from a table
 * the test may change between calls, and the endpoints the old string check let through.
 */
import type { ResolveHost } from '../../workers/tasks/push.endpoint.ts';

/** Endpoints the string check accepted (issue 12); each must be refused whatever DNS says. */
export const REPORTED_BYPASSES = [
  'https://localhost./x',
  'https://foo.localhost./x',
  'https://metadata.google.internal./x',
  'https://printer.local./x',
  'https://localhost.localdomain/x',
  'https://[::7f00:1]/x',
  'https://[64:ff9b::a9fe:a9fe]/x',
];

/** A resolver answering from `table` (read at each call); other names do not exist. `asked` records every name. */
export function tableResolver(table: Record<string, string[]>): ResolveHost & { asked: string[] } {
  const asked: string[] = [];
  const resolve = async (name: string) => {
    asked.push(name);
    const found = table[name];
    if (!found) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${name}`), { code: 'ENOTFOUND' });
    return found.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));
  };
  return Object.assign(resolve, { asked });
}

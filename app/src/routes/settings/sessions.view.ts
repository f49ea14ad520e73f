/**
 * What the sessions list says about each session, as pure functions of the session and the time:
 * the device, how it signed in, and when it was last active. The router sends `lastActiveAt` in
 * steps of a minute, so anything under two minutes reads as "now".
 */
import type { SessionJson } from '../../../../protocol/http.ts';

/** Below this a session counts as active now, ms: two steps of the router's activity clock. */
const NOW_MS = 2 * 60_000;

/** "Chrome on Android", or a placeholder when the router did not recognise the browser. */
export function deviceText(s: Pick<SessionJson, 'device'>): string {
  return s.device ?? 'Unknown device';
}

/** "with a passkey", "with GitHub" (the provider's name as the server lists it); '' when unknown. */
export function methodText(method: string | null, providers: ReadonlyArray<{ id: string; name: string }>): string {
  if (!method) return '';
  if (method === 'passkey') return 'with a passkey';
  return `with ${providers.find((p) => p.id === method)?.name ?? method}`;
}

/** "Active now", "Active 5 min ago", "Active today at 14:05", "Active yesterday at 9:30", "Active 3 Mar". */
export function activeText(iso: string, now: number): string {
  const ts = Date.parse(iso);
  const ago = Math.max(0, now - ts);
  if (ago < NOW_MS) return 'Active now';
  if (ago < 3_600_000) return `Active ${Math.floor(ago / 60_000)} min ago`;
  const d = new Date(ts);
  const time = d.toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit' });
  if (d.toDateString() === new Date(now).toDateString()) return `Active today at ${time}`;
  if (d.toDateString() === new Date(now - 86_400_000).toDateString()) return `Active yesterday at ${time}`;
  return `Active ${d.toLocaleDateString(undefined, { day: 'numeric', month: 'short', year: d.getFullYear() === new Date(now).getFullYear() ? undefined : 'numeric' })}`;
}

/** "Signed in 3 Mar 2026 with a passkey". */
export function signedInText(s: Pick<SessionJson, 'createdAt' | 'method'>, providers: ReadonlyArray<{ id: string; name: string }>): string {
  const when = new Date(s.createdAt).toLocaleDateString(undefined, { day: 'numeric', month: 'short', year: 'numeric' });
  return [`Signed in ${when}`, methodText(s.method, providers)].filter(Boolean).join(' ');
}

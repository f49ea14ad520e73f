/**
 * A local web-push service for tests: a self-signed HTTPS server that hands out subscriptions
 * (a real P-256 key pair and auth secret each), checks every push request's VAPID JWT (ES256
 * signature with the key in `k=`, audience, expiry, subject), decrypts the aes128gcm body with
 * http_ece and the subscription's private key, and answers with the statuses a test scripts
 * (201 by default).
 */
import { createECDH, createPublicKey, randomBytes, verify, type ECDH } from 'node:crypto';
import { createServer, Agent } from 'node:https';
import type { AddressInfo } from 'node:net';
// @ts-expect-error http_ece ships no types
import ece from 'http_ece';
import selfsigned from 'selfsigned';
import type { Test } from 'tap';

export interface ReceivedPush {
  subscription: string;
  /** The decrypted payload, parsed. */
  payload: Record<string, unknown>;
  headers: { ttl: string | undefined; urgency: string | undefined; topic: string | undefined };
  jwt: { aud: string; exp: number; sub: string };
  /** The VAPID public key the request was signed with. */
  vapidKey: string;
}

export interface TestSubscription {
  id: string;
  endpoint: string;
  keys: { p256dh: string; auth: string };
}

export interface PushEndpoint {
  origin: string;
  /** PEM of the self-signed certificate (trust it with NODE_EXTRA_CA_CERTS or `agent`). */
  ca: string;
  /** An agent trusting the certificate. */
  agent: Agent;
  received: ReceivedPush[];
  /** Requests refused for a bad JWT or an undecryptable body, with why. */
  refused: string[];
  subscribe(): TestSubscription;
  /** The next responses for one subscription, in order (0: never answer); after them, 201. */
  respond(subscriptionId: string, ...statuses: number[]): void;
  /** Every request seen for a subscription, with the status it got. */
  requests: Array<{ subscription: string; status: number }>;
}

/**
 * Starts the push service on 127.0.0.1 (port 0); closed in teardown. Its certificate names
 * localhost, 127.0.0.1 and `options.names`; endpoints use `options.host` (default localhost).
 */
export async function startPushEndpoint(t: Test, options: { names?: string[]; host?: string } = {}): Promise<PushEndpoint> {
  const dnsNames = ['localhost', ...(options.names ?? [])].map((value) => ({ type: 2, value }));
  const pems = await selfsigned.generate([{ name: 'commonName', value: 'localhost' }], {
    keySize: 2048,
    extensions: [{ name: 'subjectAltName', altNames: [...dnsNames, { type: 7, ip: '127.0.0.1' }] }],
  } as never);
  const keys = new Map<string, { ecdh: ECDH; auth: Buffer }>();
  const scripted = new Map<string, number[]>();
  const received: ReceivedPush[] = [];
  const refused: string[] = [];
  const requests: Array<{ subscription: string; status: number }> = [];
  let origin = '';

  const server = createServer({ key: pems.private, cert: pems.cert }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const id = /^\/push\/([\w-]+)$/.exec(req.url ?? '')?.[1] ?? '';
      const sub = keys.get(id);
      const answer = (status: number, why?: string) => {
        requests.push({ subscription: id, status });
        if (why) refused.push(why);
        res.writeHead(status).end();
      };
      if (!sub) return answer(404, `unknown subscription ${id}`);
      const next = scripted.get(id)?.shift();
      // 0: never answer (a worker killed while waiting on the push service).
      if (next === 0) return void requests.push({ subscription: id, status: 0 });
      if (next !== undefined && next >= 300) return answer(next);
      try {
        const { jwt, vapidKey } = checkVapid(String(req.headers.authorization ?? ''), origin);
        if (req.headers['content-encoding'] !== 'aes128gcm') throw new Error(`content-encoding is ${req.headers['content-encoding']}`);
        const plain: Buffer = ece.decrypt(Buffer.concat(chunks), { version: 'aes128gcm', privateKey: sub.ecdh, authSecret: sub.auth.toString('base64url') });
        received.push({
          subscription: id,
          payload: JSON.parse(plain.toString('utf8')) as Record<string, unknown>,
          headers: { ttl: req.headers.ttl as string | undefined, urgency: req.headers.urgency as string | undefined, topic: req.headers.topic as string | undefined },
          jwt,
          vapidKey,
        });
        answer(next ?? 201);
      } catch (err) {
        answer(400, (err as Error).message);
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  origin = `https://${options.host ?? 'localhost'}:${(server.address() as AddressInfo).port}`;
  const agent = new Agent({ ca: pems.cert, keepAlive: false });
  t.teardown(
    () =>
      new Promise<void>((resolve) => {
        agent.destroy();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  );

  return {
    origin,
    ca: pems.cert,
    agent,
    received,
    refused,
    requests,
    subscribe() {
      const id = randomBytes(8).toString('hex');
      const ecdh = createECDH('prime256v1');
      ecdh.generateKeys();
      const auth = randomBytes(16);
      keys.set(id, { ecdh, auth });
      return { id, endpoint: `${origin}/push/${id}`, keys: { p256dh: ecdh.getPublicKey().toString('base64url'), auth: auth.toString('base64url') } };
    },
    respond(id, ...statuses) {
      scripted.set(id, [...(scripted.get(id) ?? []), ...statuses]);
    },
  };
}

/** Verifies `vapid t=<jwt>, k=<key>` as a push service does; throws with the reason otherwise. */
function checkVapid(header: string, origin: string): { jwt: ReceivedPush['jwt']; vapidKey: string } {
  const m = /^vapid t=([\w-]+\.[\w-]+\.[\w-]+), k=([\w-]+)$/.exec(header);
  if (!m) throw new Error(`no vapid authorization: ${header.slice(0, 40)}`);
  const [h, p, s] = m[1]!.split('.') as [string, string, string];
  const vapidKey = m[2]!;
  const raw = Buffer.from(vapidKey, 'base64url');
  if (raw.length !== 65 || raw[0] !== 4) throw new Error('k is not an uncompressed P-256 point');
  const key = createPublicKey({ key: { kty: 'EC', crv: 'P-256', x: raw.subarray(1, 33).toString('base64url'), y: raw.subarray(33).toString('base64url') }, format: 'jwk' });
  const head = JSON.parse(Buffer.from(h, 'base64url').toString()) as { alg?: string };
  if (head.alg !== 'ES256') throw new Error(`JWT alg is ${head.alg}`);
  if (!verify('sha256', Buffer.from(`${h}.${p}`), { key, dsaEncoding: 'ieee-p1363' }, Buffer.from(s, 'base64url'))) throw new Error('bad JWT signature');
  const jwt = JSON.parse(Buffer.from(p, 'base64url').toString()) as ReceivedPush['jwt'];
  if (jwt.aud !== origin) throw new Error(`JWT aud ${jwt.aud} is not ${origin}`);
  if (!(jwt.exp * 1000 > Date.now()) || jwt.exp * 1000 > Date.now() + 24 * 3600_000) throw new Error('JWT exp out of range');
  if (!/^(mailto:|https:)/.test(jwt.sub ?? '')) throw new Error('JWT sub is not mailto: or https:');
  return { jwt, vapidKey };
}

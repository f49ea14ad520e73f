/**
 * A TCP proxy a test can cut: in front of a shared service (RabbitMQ on 127.0.0.1:5672), so a
 * test shows what its clients do when the service goes away and comes back, without touching the
 * service everyone else uses. sever() resets every connection through the proxy and refuses new
 * ones (accepted, then reset at once: the client sees the broker vanish, not a hang) until
 * restore().
 */
import { createServer, connect, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import type { Test } from 'tap';

export interface TcpProxy {
  /** The proxy's port on 127.0.0.1. */
  port: number;
  /** `url` with its host and port replaced by the proxy's. */
  via(url: string): string;
  /** Resets every open connection and refuses new ones until restore(). */
  sever(): void;
  restore(): void;
  /** Client connections open through the proxy now. */
  readonly open: number;
  /** Client connections accepted (and passed on) since the proxy started or was restored. */
  readonly accepted: number;
}

/** Starts a proxy to `target` (host:port) on 127.0.0.1, port 0; closed in teardown. */
export async function startTcpProxy(t: Test, target: { host: string; port: number }): Promise<TcpProxy> {
  const pairs = new Set<[Socket, Socket]>();
  let severed = false;
  let accepted = 0;
  const server = createServer((client) => {
    if (severed) return void client.resetAndDestroy();
    accepted++;
    const upstream = connect(target.port, target.host);
    const pair: [Socket, Socket] = [client, upstream];
    pairs.add(pair);
    const drop = (): void => {
      if (!pairs.delete(pair)) return;
      client.destroy();
      upstream.destroy();
    };
    for (const s of pair) {
      s.setNoDelay(true);
      s.on('error', drop);
      s.on('close', drop);
    }
    client.pipe(upstream);
    upstream.pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  const resetAll = (): void => {
    for (const pair of [...pairs]) {
      pairs.delete(pair);
      // A reset, as when the broker's host goes away, rather than an orderly FIN.
      pair[0].resetAndDestroy();
      pair[1].destroy();
    }
  };
  t.teardown(
    () =>
      new Promise<void>((resolve) => {
        // Refusing first: clients still running would otherwise reconnect and hold close() open.
        severed = true;
        resetAll();
        server.close(() => resolve());
      }),
  );
  return {
    port,
    via(url) {
      const u = new URL(url);
      u.hostname = '127.0.0.1';
      u.port = String(port);
      return u.toString();
    },
    sever() {
      severed = true;
      resetAll();
    },
    restore() {
      severed = false;
      accepted = 0;
    },
    get open() {
      return pairs.size;
    },
    get accepted() {
      return accepted;
    },
  };
}

/** The host and port of a service URL, for startTcpProxy. */
export function targetOf(url: string): { host: string; port: number } {
  const u = new URL(url);
  return { host: u.hostname, port: Number(u.port) || 5672 };
}

/**
 * The router on the embedded default, as a child process of the benchmark. On the embedded
 * default the sessions live in the router's memory and PGlite allows one process per data
 * directory, so the bench cannot create users and sessions from outside as it does on the full
 * stack. This entry is router/src/main.ts (same config, stores, node, shutdown) plus one IPC
 * request, `{type:'provision', count, prefix}`, answered with `{type:'provisioned', users}`;
 * it reports `{type:'ready', port, stores}` once listening. Running it as a child keeps the load
 * generator off the router's event loop, exactly as on the full stack.
 */
import { loadConfig } from '../src/config.ts';
import { createLogger } from '../../kit/logger.ts';
import { startRouter } from '../src/node.ts';
import { openStores } from '../src/stores.ts';

const config = loadConfig();
const log = createLogger(config.logLevel, { node: config.nodeId }, config.logFormat);
const stores = await openStores(config, log);
const node = await startRouter(config, stores, log);

process.on('message', (msg: { type?: string; count?: number; prefix?: string }) => {
  if (msg.type !== 'provision') return;
  void (async () => {
    const users: Array<{ id: number; sessionId: string }> = [];
    for (let i = 0; i < (msg.count ?? 0); i++) {
      const handle = `${msg.prefix ?? 'bench'}_${i}`;
      const user = await stores.relational.createUser(handle, handle);
      const session = await stores.sessions.create(user.id, 3600_000);
      users.push({ id: user.id, sessionId: session.id });
    }
    process.send?.({ type: 'provisioned', users });
  })().catch((err) => {
    log.error({ err }, 'provisioning failed');
    process.exit(1);
  });
});
process.send?.({ type: 'ready', port: node.port, stores: stores.describe });

let stopping = false;
async function shutdown(): Promise<void> {
  if (stopping) return;
  stopping = true;
  setTimeout(() => process.exit(1), config.shutdownTimeoutMs).unref();
  await node.close();
  await stores.close();
  process.exit(0);
}
process.on('SIGTERM', () => void shutdown());
process.on('SIGINT', () => void shutdown());

/**
 * The router process: configuration, stores, one node, and a graceful exit on SIGTERM/SIGINT.
 */
import { ConfigError, loadConfig, type Config } from './config.ts';
import { createLogger } from '../../kit/logger.ts';
import { startRouter } from './node.ts';
import { openStores } from './stores.ts';

let config: Readonly<Config>;
try {
  config = loadConfig();
} catch (err) {
  if (err instanceof ConfigError) {
    console.error(err.message);
    process.exit(2);
  }
  throw err;
}

const log = createLogger(config.logLevel, { node: config.nodeId }, config.logFormat);
const stores = await openStores(config, log);
const node = await startRouter(config, stores, log);
log.info({ port: node.port, ...(node.metricsPort !== undefined ? { metricsPort: node.metricsPort } : {}), origin: config.publicOrigin, stores: stores.describe }, `messenger listening on http://localhost:${node.port}`);
// A person at a terminal gets the one line they need, whatever the log level; collectors the JSON line above.
if (config.logFormat === 'text') console.log(`Messenger is running at ${config.port === 0 ? `http://localhost:${node.port}` : config.publicOrigin}`);

let stopping = false;
async function shutdown(signal: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  log.info({ signal }, 'shutting down');
  const deadline = setTimeout(() => {
    // Push tasks still waiting for RabbitMQ's confirm (a broker outage) are lost with the process.
    log.error({ unconfirmedTasks: stores.tasks.outboxStats?.().pending ?? 0 }, 'shutdown deadline passed; exiting anyway');
    process.exit(1);
  }, config.shutdownTimeoutMs);
  deadline.unref();
  await node.close();
  await stores.close();
  log.info('stopped');
  process.exit(0);
}
process.on('SIGTERM', () => void shutdown('SIGTERM'));
process.on('SIGINT', () => void shutdown('SIGINT'));

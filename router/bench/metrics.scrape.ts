/**
 * The router's own view of a measured window, from its Prometheus endpoint (GET /metrics on the
 * metrics listener, METRICS_PORT) scraped at the window's start and end: group-commit batches and
 * their latency, server-side delivery latency, bus confirms, event-loop delay and GC. A server
 * without /metrics gives nothing.
 */

/** Sample name with its labels (`name{a="b"}`) to value. */
export type Scrape = Map<string, number>;

/** Reads /metrics; resolves with an empty map when the server has none. */
export async function scrape(url: string | undefined): Promise<Scrape> {
  const samples: Scrape = new Map();
  if (!url) return samples;
  try {
    const res = await fetch(url);
    if (!res.ok) return samples;
    for (const line of (await res.text()).split('\n')) {
      if (line === '' || line.startsWith('#')) continue;
      const space = line.lastIndexOf(' ');
      const value = Number(line.slice(space + 1));
      if (Number.isFinite(value)) samples.set(line.slice(0, space), value);
    }
  } catch {
    // No metrics: the figures stay blank.
  }
  return samples;
}

export interface ServerWindow {
  /** Group-commit batches written per second, mean messages per batch, mean write time (ms). */
  batchesPerSec: number;
  batchMean: number;
  commitMeanMs: number;
  /** Stored to written to the recipient's socket, mean ms (server clock). */
  deliveryMeanMs: number;
  /** Publish to RabbitMQ confirm, mean ms. */
  busConfirmMeanMs: number;
  /** Event-loop delay over the window (prom-client resets it at every scrape), ms. */
  loopP99Ms: number;
  loopMaxMs: number;
  /** Time in GC, % of the window. */
  gcPercent: number;
}

/** The window between two scrapes `seconds` apart; NaN where the server has no such metric. */
export function serverWindow(a: Scrape, b: Scrape, seconds: number): ServerWindow {
  const delta = (name: string) => (b.get(name) ?? Number.NaN) - (a.get(name) ?? Number.NaN);
  const sumOf = (m: Scrape, prefix: string) => {
    let total = Number.NaN;
    for (const [k, v] of m) if (k.startsWith(prefix)) total = (Number.isNaN(total) ? 0 : total) + v;
    return total;
  };
  const batches = delta('messenger_history_commit_seconds_count');
  return {
    batchesPerSec: batches / seconds,
    batchMean: delta('messenger_history_batch_messages_sum') / delta('messenger_history_batch_messages_count'),
    commitMeanMs: (delta('messenger_history_commit_seconds_sum') / batches) * 1000,
    deliveryMeanMs: (delta('messenger_delivery_latency_seconds_sum') / delta('messenger_delivery_latency_seconds_count')) * 1000,
    busConfirmMeanMs: (delta('messenger_bus_confirm_seconds_sum') / delta('messenger_bus_confirm_seconds_count')) * 1000,
    loopP99Ms: (b.get('messenger_nodejs_eventloop_lag_p99_seconds') ?? Number.NaN) * 1000,
    loopMaxMs: (b.get('messenger_nodejs_eventloop_lag_max_seconds') ?? Number.NaN) * 1000,
    gcPercent: ((sumOf(b, 'messenger_nodejs_gc_duration_seconds_sum') - sumOf(a, 'messenger_nodejs_gc_duration_seconds_sum')) / seconds) * 100,
  };
}

/**
 * The workers in the router's own process: the embedded default (no AMQP_URL) runs the same
 * handlers, runner and digest scheduler as the worker process, on the memory queue. This is the
 * one door from the router into the workers' runtime; everything else it uses of the workers is
 * the task contract beside this file.
 */
export { startWorkerRuntime as startEmbeddedWorkers } from '../src/worker.runtime.ts';
export type { WorkerRuntime as EmbeddedWorkers, WorkerRuntimeDeps as EmbeddedWorkersDeps } from '../src/worker.runtime.ts';

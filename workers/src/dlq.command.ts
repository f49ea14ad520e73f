/**
 * `npm run dlq -- list [N]` prints up to N (default 20) dead-lettered tasks with their reasons;
 * `npm run dlq -- requeue [N]` moves up to N (default all) back to the queue as fresh attempts.
 * Reads AMQP_URL and TASK_QUEUE (default messenger.tasks).
 */
import { notifyFields } from '../tasks/notify.config.ts';
import { AmqpTaskQueue } from '../tasks/queue.amqp.ts';

const [command, countArg] = process.argv.slice(2);
// A command run by hand: it reads the two variables it needs here, with the workers' own rule and default for TASK_QUEUE.
const url = process.env.AMQP_URL;
const queueName = notifyFields.TASK_QUEUE.parse(process.env.TASK_QUEUE || undefined);
if (!url || !['list', 'requeue'].includes(command ?? '')) {
  console.error('usage: AMQP_URL=amqp://… npm run dlq -- list|requeue [count]');
  process.exit(2);
}
const count = countArg ? Number(countArg) : command === 'list' ? 20 : Number.MAX_SAFE_INTEGER;
if (!Number.isInteger(count) || count < 1) {
  console.error('count must be a positive integer');
  process.exit(2);
}
const queue = await AmqpTaskQueue.open({ url, queue: queueName, connectionName: 'dlq command' });
try {
  if (command === 'list') {
    const dead = await queue.listDead(count);
    for (const d of dead) console.log(JSON.stringify({ at: d.at ? new Date(d.at).toISOString() : null, attempt: d.attempt, reason: d.reason, task: d.content }));
    console.error(`${dead.length} dead-lettered task(s) shown from ${queue.deadQueue}`);
  } else {
    const moved = await queue.requeueDead(count);
    console.error(`${moved} task(s) re-queued to ${queueName}`);
  }
} finally {
  await queue.close();
}

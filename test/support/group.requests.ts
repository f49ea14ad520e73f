/** Group requests over a TestClient, and the entries of a room it received live. */
import type { Message, ServerFrame } from '../../protocol/frames.ts';
import type { TestClient } from './router.harness.ts';

type FrameOf<T extends ServerFrame['type']> = Extract<ServerFrame, { type: T }>;
export type GroupAnswer = FrameOf<'group.done'> | FrameOf<'group.members'> | FrameOf<'error'>;

let refs = 0;

/** Sends a group request and waits for its answer: `group.done`, `group.members` or `error` with its ref. */
export function request(c: TestClient, frame: Record<string, unknown>): Promise<GroupAnswer> {
  const ref = `g${++refs}`;
  c.send({ ...frame, ref });
  return c.nextWhere(
    (f): f is GroupAnswer => (f.type === 'group.done' || f.type === 'group.members' || f.type === 'error') && f.ref === ref,
    10_000,
    `answer to ${String(frame.type)}`,
  );
}

/** A request that must succeed: its `group.done`. */
export async function done(c: TestClient, frame: Record<string, unknown>): Promise<FrameOf<'group.done'>> {
  const answer = await request(c, frame);
  if (answer.type !== 'group.done') throw new Error(`expected group.done, got ${JSON.stringify(answer)}`);
  return answer;
}

/** The entries of `room` a client received live, in arrival order. */
export function entries(c: TestClient, room: string): Message[] {
  return c.all('message.new').map((f) => f.message).filter((m) => m.room === room);
}

/** Waits until `c` has received the entry `seq` of `room` live (each call takes one frame). */
export function entry(c: TestClient, room: string, seq: number): Promise<Message> {
  return c.next('message.new', (f) => f.message.room === room && f.message.seq === seq).then((f) => f.message);
}

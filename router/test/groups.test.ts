import t, { type Test } from 'tap';
import type { ServerFrame } from '../../protocol/frames.ts';
import { done, entries, entry, request } from '../../test/support/group.requests.ts';
import { call } from '../../test/support/http.client.ts';
import { modes, startNode, TEST_ORIGIN, type Harness, type TestClient, type TestUser } from '../../test/support/router.harness.ts';

type FrameOf<T extends ServerFrame['type']> = Extract<ServerFrame, { type: T }>;

for (const mode of modes(t, 'group chats')) {
  t.test(`groups on the ${mode.name}`, async (t) => {
    const h = await startNode(t, await mode.env(t));
    await lifecycle(t, h);
    await refusals(t, h);
    await races(t, h);
  });
}

/** Three users create a group, chat, add a fourth, remove one: every entry exactly once, in order. */
async function lifecycle(t: Test, h: Harness): Promise<void> {
  const [ann, ben, cat, dan] = await Promise.all([h.user(), h.user(), h.user(), h.user()]);
  const [a, b, c] = await Promise.all([ann.connect(), ben.connect(), cat.connect()]);
  let room = '';

  await t.test('three users create a group and everyone gets its first entry', async (t) => {
    const created = await done(a, { type: 'group.create', name: '  Climbing club ', members: [ben.id, cat.id] });
    room = created.room;
    t.match(room, /^g-[0-9a-f-]{36}$/, 'the group id is g- and a UUID');
    t.equal(created.seq, 1, 'its creation is seq 1');
    for (const [who, client] of [['ann', a], ['ben', b], ['cat', c]] as const) {
      const first = await entry(client, room, 1);
      t.match(first, { kind: 'event', sender: ann.id, body: '', event: { type: 'room.created', name: 'Climbing club' } }, `${who} gets room.created with the trimmed name`);
    }
  });

  await t.test('members chat, and each message reaches every other member once', async (t) => {
    const sent = await a.sendMessage({ room }, 'hello all');
    t.match(sent, { type: 'message.sent', seq: 2 }, 'ann is acknowledged');
    t.match(await entry(b, room, 2), { sender: ann.id, body: 'hello all' }, 'ben gets it');
    const text = await entry(c, room, 2);
    t.match(text, { sender: ann.id, body: 'hello all' }, 'cat gets it');
    t.notOk('kind' in text || 'event' in text, 'a text message keeps its 1:1 shape');
    t.match(await b.sendMessage({ room }, 'hi ann'), { type: 'message.sent', seq: 3 }, 'ben is acknowledged');
    await entry(a, room, 3);
    await entry(c, room, 3);
    b.send({ type: 'typing', room, active: true });
    t.match(await a.next('typing', (f) => f.room === room), { user: ben.id, active: true }, 'typing names who types');
    c.send({ type: 'message.read', room, seq: 3 });
    t.match(await a.next('receipt', (f) => f.room === room && f.kind === 'read'), { user: cat.id, seq: 3 }, 'ann sees that cat read up to 3');
    t.match(await b.next('receipt', (f) => f.room === room && f.kind === 'read'), { user: cat.id, seq: 3 }, 'ben too');
  });

  await t.test('an admin adds a fourth, who sees the log from their joining on', async (t) => {
    const added = await done(a, { type: 'group.add', room, users: [dan.id] });
    t.equal(added.seq, 4, 'the addition is seq 4');
    const d = await dan.connect();
    d.send({ type: 'sync', rooms: [] });
    const sync = await d.next('sync.done');
    const summary = sync.rooms.find((r) => r.room === room);
    t.match(summary, { kind: 'group', name: 'Climbing club', joinedSeq: 4, lastSeq: 4 }, 'dan\'s sync lists the group from his joining');
    t.same(summary?.members.map((m) => [m.id, m.role]).sort(), [[ann.id, 'owner'], [ben.id, 'member'], [cat.id, 'member'], [dan.id, 'member']].sort(), 'with every member and role');
    const pages = d.all('history.page').filter((p) => p.room === room).flatMap((p) => p.messages.map((m) => m.seq));
    t.same(pages, [4], 'dan gets nothing from before he joined');
    d.send({ type: 'history.get', room, before: 4, ref: 'old' });
    t.same((await d.next('history.page', (p) => p.ref === 'old')).messages, [], 'history.get does not reach before his joining either');
    t.match(await d.sendMessage({ room }, 'thanks for adding me'), { seq: 5 }, 'dan can send');
    await entry(a, room, 5);
    const members = await request(b, { type: 'group.members', room });
    t.match(members, { type: 'group.members', name: 'Climbing club', lastSeq: 5 }, 'group.members answers');
    t.equal(members.type === 'group.members' && members.members.find((m) => m.id === cat.id)?.read, 3, 'with each member\'s read watermark (who read)');
  });

  await t.test('a removed member sees their removal and nothing after it', async (t) => {
    await entry(c, room, 5);
    const removed = await done(a, { type: 'group.remove', room, user: cat.id });
    t.equal(removed.seq, 6, 'the removal is seq 6');
    t.match(await entry(c, room, 6), { event: { type: 'member.removed', user: cat.id } }, 'cat gets her removal');
    t.match(await a.sendMessage({ room }, 'after cat left'), { seq: 7 }, 'the others go on');
    await entry(b, room, 7);
    b.send({ type: 'typing', room, active: true });
    await a.next('typing', (f) => f.room === room);
    t.match(await c.sendMessage({ room }, 'let me in'), { type: 'error', code: 'room_not_found' }, 'cat cannot send');
    c.send({ type: 'history.get', room, ref: 'h' });
    t.same((await c.next('history.page', (p) => p.ref === 'h')).messages.map((m) => m.seq), [1, 2, 3, 4, 5, 6], 'history stops at her removal');
    c.send({ type: 'sync', rooms: [{ room, lastSeq: 5 }], ref: 's' });
    const sync = await c.next('sync.done', (f) => f.ref === 's');
    t.match(sync.rooms.find((r) => r.room === room), { left: 6, lastSeq: 6, members: [] }, 'sync reports her leaving');
    t.same(c.all('history.page').filter((p) => p.ref === 's').flatMap((p) => p.messages.map((m) => m.seq)), [6], 'and streams only up to it');
    c.send({ type: 'sync', rooms: [{ room, lastSeq: 6 }], ref: 's2' });
    t.notOk((await c.next('sync.done', (f) => f.ref === 's2')).rooms.some((r) => r.room === room), 'once she has it, the group is gone from her sync');
    t.match(await request(c, { type: 'group.members', room }), { type: 'error', code: 'room_not_found' }, 'she cannot list members');
    t.notOk(entries(c, room).some((m) => m.seq > 6), 'she got no entry after her removal live');
    t.notOk(c.all('typing').some((f) => f.room === room && f.active && c.frames.indexOf(f) > c.frames.findIndex((x) => x.type === 'message.new' && x.message.seq === 6 && x.message.room === room)), 'nor typing after it');
  });

  await t.test('every member got every entry of their window exactly once, in seq order', async (t) => {
    const seqs = (c2: TestClient) => entries(c2, room).map((m) => m.seq);
    t.same(seqs(b), [1, 2, 4, 5, 6, 7], 'ben: every entry once, in order (his own message came as its ack)');
    t.same(seqs(a), [1, 3, 4, 5, 6], 'ann: the events, her own included, and the others\' messages (hers came as acks)');
    t.same(seqs(c), [1, 2, 3, 4, 5, 6], 'cat: up to her removal');
  });
}

/** Every refusal of "Bad input", with its code, and nothing half-applied. */
async function refusals(t: Test, h: Harness): Promise<void> {
  const [owner, admin, member, outsider] = await Promise.all([h.user(), h.user(), h.user(), h.user()]);
  const [o, ad, m, out] = await Promise.all([owner.connect(), admin.connect(), member.connect(), outsider.connect()]);
  const { room } = await done(o, { type: 'group.create', name: 'Rules', members: [admin.id, member.id] });
  await done(o, { type: 'group.role', room, user: admin.id, role: 'admin' });
  const cases: Array<[string, TestClient, Record<string, unknown>, string]> = [
    ['creating with an unknown user', o, { type: 'group.create', name: 'x', members: [admin.id, 2 ** 31 - 2] }, 'user_not_found'],
    ['creating with a duplicate', o, { type: 'group.create', name: 'x', members: [admin.id, admin.id] }, 'duplicate_member'],
    ['creating with yourself listed', o, { type: 'group.create', name: 'x', members: [owner.id, admin.id] }, 'duplicate_member'],
    ['creating with an empty name', o, { type: 'group.create', name: '', members: [admin.id] }, 'invalid_frame'],
    ['creating with a hostile name', o, { type: 'group.create', name: 'evil\u202Eeman', members: [admin.id] }, 'invalid_frame'],
    ['adding as a plain member', m, { type: 'group.add', room, users: [outsider.id] }, 'not_admin'],
    ['renaming as a plain member', m, { type: 'group.rename', room, name: 'Mine' }, 'not_admin'],
    ['removing the owner', ad, { type: 'group.remove', room, user: owner.id }, 'owner_protected'],
    ['promoting as an admin', ad, { type: 'group.role', room, user: member.id, role: 'admin' }, 'not_owner'],
    ['demoting the owner', o, { type: 'group.role', room, user: owner.id, role: 'member' }, 'owner_protected'],
    ['removing a non-member', o, { type: 'group.remove', room, user: outsider.id }, 'member_not_found'],
    ['adding a member again, with someone new', o, { type: 'group.add', room, users: [outsider.id, member.id] }, 'already_member'],
    ['adding an unknown user', o, { type: 'group.add', room, users: [2 ** 31 - 2] }, 'user_not_found'],
    ['a stranger asking for the members', out, { type: 'group.members', room }, 'room_not_found'],
    ['a stranger adding themselves', out, { type: 'group.add', room, users: [outsider.id] }, 'room_not_found'],
    ['a group request on an unknown group', o, { type: 'group.rename', room: 'g-00000000-0000-7000-8000-000000000000', name: 'x' }, 'room_not_found'],
  ];
  await t.test('every refusal has its code', async (t) => {
    for (const [what, client, frame, code] of cases) t.match(await request(client, frame), { type: 'error', code }, `${what}: ${code}`);
    const direct = await o.sendMessage({ to: member.id }, 'a 1:1 room');
    const directRoom = direct.type === 'message.sent' ? direct.room : '';
    t.match(await request(o, { type: 'group.add', room: directRoom, users: [admin.id] }), { type: 'error', code: 'wrong_room_kind' }, 'a group request on a 1:1 room: wrong_room_kind');
    t.match(await request(out, { type: 'group.add', room: directRoom, users: [admin.id] }), { type: 'error', code: 'room_not_found' }, 'on a 1:1 room of others: room_not_found');
    t.match(await out.sendMessage({ room }, 'let me in'), { type: 'error', code: 'room_not_found' }, 'a stranger cannot send to the group');
    out.send({ type: 'history.get', room, ref: 'peek' });
    t.match(await out.nextWhere((f): f is FrameOf<'error'> => f.type === 'error' && f.ref === 'peek'), { code: 'room_not_found' }, 'nor read its history');
    const members = await request(o, { type: 'group.members', room });
    t.same(members.type === 'group.members' && members.members.map((x) => x.id).sort(), [owner.id, admin.id, member.id].sort(), 'nothing was half-applied: the members are the three');
    t.equal(members.type === 'group.members' && members.lastSeq, 2, 'and the log holds only the creation and the promotion');
  });

  await t.test('over the member limit, whole', async (t) => {
    const small = await startNode(t, { GROUP_MEMBERS_MAX: '3' });
    const [x, y, z, w] = await Promise.all([small.user(), small.user(), small.user(), small.user()]);
    const cx = await x.connect();
    t.match(await request(cx, { type: 'group.create', name: 'big', members: [y.id, z.id, w.id] }), { type: 'error', code: 'too_many_members' }, 'creating over the limit: too_many_members');
    const { room: r } = await done(cx, { type: 'group.create', name: 'ok', members: [y.id, z.id] });
    t.match(await request(cx, { type: 'group.add', room: r, users: [w.id] }), { type: 'error', code: 'too_many_members' }, 'adding over the limit: too_many_members');
  });

  await t.test('over the groups-per-user limit', async (t) => {
    const small = await startNode(t, { GROUPS_PER_USER_MAX: '1' });
    const [x, y] = await Promise.all([small.user(), small.user()]);
    const cx = await x.connect();
    await done(cx, { type: 'group.create', name: 'one', members: [y.id] });
    t.match(await request(cx, { type: 'group.create', name: 'two', members: [] }), { type: 'error', code: 'too_many_groups' }, 'a second group: too_many_groups');
  });

  await t.test('a member mutes the group for themselves over HTTP; sync reports it; others cannot', async (t) => {
    const mute = (who: TestUser, r: string, muted: unknown) =>
      call(h.httpUrl, `/api/rooms/${r}/mute`, { method: 'PUT', body: { muted }, cookie: `sid=${who.sessionId}`, origin: TEST_ORIGIN });
    t.match(await mute(member, room, true), { status: 200, body: { room, muted: true } }, 'a member mutes');
    t.match(await mute(outsider, room, true), { status: 404, body: { error: { code: 'room_not_found' } } }, 'a stranger learns nothing');
    t.match(await mute(member, room, 'yes'), { status: 400, body: { error: { code: 'invalid_request' } } }, 'muted must be a boolean');
    m.send({ type: 'sync', rooms: [], ref: 'mute' });
    t.match((await m.next('sync.done', (f) => f.ref === 'mute')).rooms.find((r) => r.room === room), { muted: true }, 'the member\'s sync says muted');
    o.send({ type: 'sync', rooms: [], ref: 'mute' });
    t.notOk((await o.next('sync.done', (f) => f.ref === 'mute')).rooms.find((r) => r.room === room)?.muted, 'the owner\'s does not');
  });

  await t.test('an owner who leaves hands over to the longest-standing admin', async (t) => {
    const left = await done(o, { type: 'group.leave', room });
    const handover = await entry(ad, room, left.seq);
    t.match(handover, { event: { type: 'member.role', user: admin.id, role: 'owner' } }, 'the admin becomes owner, in the same commit');
    t.match(await entry(ad, room, left.seq - 1), { event: { type: 'member.left', user: owner.id } }, 'right after the owner\'s leaving');
    t.match(await request(ad, { type: 'group.role', room, user: member.id, role: 'admin' }), { type: 'group.done' }, 'the new owner may promote');
  });
}

/** The races of "Bad input": decided in seq order by the log. */
async function races(t: Test, h: Harness): Promise<void> {
  await t.test('two admins removing each other at once: exactly one wins', async (t) => {
    const [owner, x, y] = await Promise.all([h.user(), h.user(), h.user()]);
    const [o, cx, cy] = await Promise.all([owner.connect(), x.connect(), y.connect()]);
    const { room } = await done(o, { type: 'group.create', name: 'race', members: [x.id, y.id] });
    await done(o, { type: 'group.role', room, user: x.id, role: 'admin' });
    await done(o, { type: 'group.role', room, user: y.id, role: 'admin' });
    const answers = await Promise.all([request(cx, { type: 'group.remove', room, user: y.id }), request(cy, { type: 'group.remove', room, user: x.id })]);
    t.same(answers.map((a) => a.type).sort(), ['error', 'group.done'], 'one removal is applied, the other refused');
    t.match(answers.find((a) => a.type === 'error'), { code: 'room_not_found' }, 'the loser was no longer a member');
    const members = await request(o, { type: 'group.members', room });
    t.equal(members.type === 'group.members' && members.members.length, 2, 'two members are left');
  });

  await t.test('a message racing its sender\'s removal is stored before it or refused, never after', async (t) => {
    const [owner, x] = await Promise.all([h.user(), h.user()]);
    const [o, cx] = await Promise.all([owner.connect(), x.connect()]);
    const { room } = await done(o, { type: 'group.create', name: 'race 2', members: [x.id] });
    const sends = Array.from({ length: 20 }, (_, i) => cx.sendMessage({ room }, `m${i}`));
    const removal = done(o, { type: 'group.remove', room, user: x.id });
    const [acks, removed] = await Promise.all([Promise.all(sends), removal]);
    const stored = acks.filter((a) => a.type === 'message.sent').map((a) => (a.type === 'message.sent' ? a.seq : 0));
    t.ok(stored.every((seq) => seq < removed.seq), `every stored message (${stored.length}) is before the removal (seq ${removed.seq})`);
    t.ok(acks.every((a) => a.type === 'message.sent' || a.code === 'room_not_found'), 'the others are refused as room_not_found');
    t.equal(stored.length + 2, removed.seq, 'no seq was used by a refused message');
  });
}


import { readdir } from 'node:fs/promises';
import sharp from 'sharp';
import t from 'tap';
import { done } from '../../test/support/group.requests.ts';
import { call } from '../../test/support/http.client.ts';
import { modes, startNode, TEST_ORIGIN, type Harness, type TestUser } from '../../test/support/router.harness.ts';

interface Raw {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

/** Sends `bytes` (or nothing) to `path` with `method`, as `user` (or signed out). */
async function raw(h: Harness, method: string, path: string, user: TestUser | null, bytes?: Buffer): Promise<Raw> {
  const res = await fetch(`${h.httpUrl}${path}`, { method, headers: { origin: TEST_ORIGIN, ...(user ? { cookie: `sid=${user.sessionId}` } : {}) }, body: bytes });
  return { status: res.status, headers: Object.fromEntries(res.headers), body: Buffer.from(await res.arrayBuffer()) };
}

const json = (r: Raw) => JSON.parse(r.body.toString('utf8'));
const photo = (w: number, h: number) =>
  sharp({ create: { width: w, height: h, channels: 3, background: { r: 20, g: 140, b: 90 } } })
    .withMetadata({ exif: { IFD0: { Make: 'SecretCam', Copyright: 'GPS 55.75N 37.61E' } } })
    .jpeg()
    .toBuffer();
const idOf = (url: string) => url.slice('/api/avatars/'.length);

for (const mode of modes(t, 'avatars')) t.test(`avatars on the ${mode.name}`, async (t) => {
  const h = await startNode(t, await mode.env(t));
  const [ann, ben] = await Promise.all([h.user(), h.user()]);
  const blobs = h.stores.blobs;

  t.test('set, fetched by another user, replaced (the old blob goes), removed', async (t) => {
    // Ben shares a room with Ann, so her profile change reaches him live.
    const [a, b] = await Promise.all([ann.connect(), ben.connect()]);
    a.send({ type: 'message.send', clientMsgId: 'hello-1', to: ben.id, body: 'hi', ref: 'r1' });
    await b.next('message.new', (f) => f.message.sender === ann.id);

    const set = await raw(h, 'PUT', '/api/me/avatar', ann, await photo(900, 600));
    t.equal(set.status, 200, 'the photo is taken');
    const first: string = json(set).user.avatarUrl;
    t.match(first, /^\/api\/avatars\/[0-9a-f-]{36}$/, 'the profile names the avatar');
    const told = await b.next('user.updated', (f) => f.user.id === ann.id && f.user.avatarUrl === first);
    t.equal(told.user.avatarUrl, first, 'a contact learns it live');
    t.equal(json(await raw(h, 'GET', '/api/me', ann)).user.avatarUrl, first, '/api/me carries it');

    const got = await raw(h, 'GET', first, ben);
    t.equal(got.status, 200, 'any signed-in user fetches it');
    t.equal(got.headers['content-type'], 'image/webp', 'a WebP');
    t.equal(got.headers['x-content-type-options'], 'nosniff', 'nosniff');
    t.equal(got.headers['content-security-policy'], 'sandbox', 'sandboxed');
    t.match(got.headers['cache-control'], /private.*immutable/, 'private, immutable');
    const meta = await sharp(got.body).metadata();
    t.same([meta.format, meta.width, meta.height], ['webp', 256, 256], 'a 256 px square');
    t.equal(meta.exif, undefined, 'no EXIF left');
    t.equal((await raw(h, 'GET', first, ben)).status, 200, 'fetched again');

    const replaced = await raw(h, 'PUT', '/api/me/avatar', ann, await photo(300, 500));
    const second: string = json(replaced).user.avatarUrl;
    t.not(second, first, 'a new avatar has a new URL (so caching it as immutable is right)');
    t.equal(await blobs.size(`v/${idOf(first)}`), null, 'the old blob is deleted');
    t.equal((await raw(h, 'GET', first, ben)).status, 404, 'the old URL is gone');
    t.ok(((await blobs.size(`v/${idOf(second)}`)) ?? 0) > 0, 'the new blob is stored');

    const removed = await raw(h, 'DELETE', '/api/me/avatar', ann);
    t.equal(removed.status, 200, 'removed');
    t.equal(json(removed).user.avatarUrl, null, 'no avatar on the profile');
    t.equal(await blobs.size(`v/${idOf(second)}`), null, 'its blob is deleted');
    await b.next('user.updated', (f) => f.user.id === ann.id && !f.user.avatarUrl);
    t.pass('the removal reaches the contact live');
  });

  t.test('refusals', async (t) => {
    const pdf = await raw(h, 'PUT', '/api/me/avatar', ann, Buffer.from('%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n'));
    t.equal(pdf.status, 415, 'not an image: 415');
    t.equal(json(pdf).error.code, 'not_an_image', 'with its code');
    const svg = await raw(h, 'PUT', '/api/me/avatar', ann, Buffer.from('<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'));
    t.equal(json(svg).error.code, 'not_an_image', 'SVG is not an avatar');
    t.equal(json(await raw(h, 'GET', '/api/me', ann)).user.avatarUrl, null, 'the profile kept no avatar');
    t.equal((await raw(h, 'PUT', '/api/me/avatar', null, await photo(10, 10))).status, 401, 'signed out: 401 for setting');
    t.equal((await raw(h, 'DELETE', '/api/me/avatar', null)).status, 401, 'signed out: 401 for removing');
    const set = json(await raw(h, 'PUT', '/api/me/avatar', ben, await photo(40, 40))).user.avatarUrl;
    t.equal((await call(h.httpUrl, set)).status, 401, 'signed out: 401 for fetching');
    t.equal((await raw(h, 'GET', '/api/avatars/..%2F..%2Fetc', ann)).status, 404, 'an id not ours: 404');
    t.equal((await readdir(h.stores.spoolDir).catch(() => [])).length, 0, 'no temporary file left');
  });

  t.test("a group's photo: its owner and admins set and remove it, members read it at sync", async (t) => {
    const [own, mem, out] = await Promise.all([h.user(), h.user(), h.user()]);
    const [o, m] = await Promise.all([own.connect(), mem.connect()]);
    const { room } = await done(o, { type: 'group.create', name: 'Photos', members: [mem.id] });
    const path = `/api/groups/${room}/avatar`;

    const refused = await raw(h, 'PUT', path, mem, await photo(50, 50));
    t.equal(refused.status, 403, 'a plain member may not');
    t.equal(json(refused).error.code, 'not_admin', 'with not_admin, the rule of renaming');
    t.equal(json(await raw(h, 'PUT', path, out, await photo(50, 50))).error.code, 'room_not_found', 'someone outside: room_not_found');
    t.equal((await raw(h, 'PUT', path, null, await photo(50, 50))).status, 401, 'signed out: 401');
    t.equal(json(await raw(h, 'PUT', path, own, Buffer.from('just words'))).error.code, 'not_an_image', 'not an image: not_an_image');

    const set = await raw(h, 'PUT', path, own, await photo(640, 480));
    t.equal(set.status, 200, 'the owner sets it');
    const first: string = json(set).avatarUrl;
    t.match(first, /^\/api\/avatars\/[0-9a-f-]{36}$/, 'its URL');
    m.send({ type: 'sync', rooms: [], ref: 'g1' });
    const sync = await m.next('sync.done', (f) => f.ref === 'g1');
    t.equal(sync.rooms.find((r) => r.room === room)?.avatarUrl, first, "the group's summary carries it");
    t.equal((await raw(h, 'GET', first, out)).status, 200, 'any signed-in user fetches it');

    const second: string = json(await raw(h, 'PUT', path, own, await photo(100, 100))).avatarUrl;
    t.not(second, first, 'replaced under a new URL');
    t.equal(await blobs.size(`v/${idOf(first)}`), null, 'the old blob is deleted');
    const removed = await raw(h, 'DELETE', path, own);
    t.same(json(removed), { room, avatarUrl: null }, 'removed');
    t.equal(await blobs.size(`v/${idOf(second)}`), null, 'its blob is deleted');
    t.equal(json(await raw(h, 'DELETE', path, mem)).error.code, 'not_admin', 'a member may not remove it either');
  });
});

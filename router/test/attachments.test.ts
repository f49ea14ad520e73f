import { request } from 'node:http';
import { readdir } from 'node:fs/promises';
import sharp from 'sharp';
import t, { type Test } from 'tap';
import type { Attachment, ServerFrame } from '../../protocol/frames.ts';
import { call } from '../../test/support/http.client.ts';
import { modes, startNode, TEST_ORIGIN, type Harness, type TestClient, type TestUser } from '../../test/support/router.harness.ts';
import { freshS3Bucket } from '../../test/support/s3.ts';
import { ManualScheduler } from '../../test/support/clock.ts';
import { until } from '../../test/support/wait.ts';

interface Raw {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

/** POSTs `bytes` to /api/uploads as `user`, named `name`; `length` overrides Content-Length (a lie, for truncation). */
function upload(h: Harness, user: TestUser, bytes: Buffer, name: string | undefined, headers: Record<string, string> = {}): Promise<Raw> {
  return new Promise((resolve, reject) => {
    const req = request(
      `${h.httpUrl}/api/uploads`,
      {
        method: 'POST',
        agent: false,
        headers: { origin: TEST_ORIGIN, cookie: `sid=${user.sessionId}`, 'content-length': String(bytes.length), ...(name !== undefined ? { 'x-file-name': encodeURIComponent(name) } : {}), ...headers },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
      },
    );
    req.on('error', reject);
    req.end(bytes);
  });
}

const json = (r: Raw) => JSON.parse(r.body.toString('utf8'));

function fetchAs(h: Harness, user: TestUser, path: string, headers: Record<string, string> = {}): Promise<Raw> {
  return new Promise((resolve, reject) => {
    request(`${h.httpUrl}${path}`, { agent: false, headers: { cookie: `sid=${user.sessionId}`, ...headers } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
    })
      .on('error', reject)
      .end();
  });
}

let refs = 0;
type Answer = Extract<ServerFrame, { type: 'message.sent' | 'error' }>;
function send(c: TestClient, frame: Record<string, unknown>): Promise<Answer> {
  const ref = `s${++refs}`;
  c.send({ type: 'message.send', clientMsgId: `m${refs}-${Date.now()}`, ...frame, ref });
  return c.nextWhere((f): f is Answer => 'ref' in f && f.ref === ref && (f.type === 'message.sent' || f.type === 'error'), 10_000, 'answer to message.send');
}

const photo = (w: number, h: number) =>
  sharp({ create: { width: w, height: h, channels: 3, background: { r: 200, g: 40, b: 90 } } })
    .withMetadata({ exif: { IFD0: { Make: 'SecretCam', Copyright: 'GPS 55.75N 37.61E' } } })
    .jpeg()
    .toBuffer();
const PDF = Buffer.from('%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n');

for (const mode of modes(t, 'attachments')) {
  t.test(`attachments on the ${mode.name}`, async (t) => {
    const env = await mode.env(t);
    // The full stack keeps the bytes in an S3-compatible bucket (s3rver, an S3 server in Node, or S3_URL's).
    if (mode.name !== 'embedded default') {
      const s3 = await freshS3Bucket(t);
      Object.assign(env, { S3_BUCKET: s3.bucket, S3_ENDPOINT: s3.endpoint!, S3_ACCESS_KEY_ID: s3.accessKeyId, S3_SECRET_ACCESS_KEY: s3.secretAccessKey });
    }
    const scheduler = new ManualScheduler();
    const h = await startNode(t, { ...env, UPLOAD_TTL_MS: '1000', UPLOAD_MAX_BYTES: String(1024 * 1024), UPLOAD_QUOTA_BYTES: String(3 * 1024 * 1024), IMAGE_MAX_PIXELS: String(4000 * 4000), UPLOADS_CONCURRENT_MAX: '2' }, undefined, { scheduler });
    await suite(t, h, scheduler);
  });
}

async function suite(t: Test, h: Harness, scheduler: ManualScheduler): Promise<void> {
  const [ann, ben, cat] = await Promise.all([h.user(), h.user(), h.user()]);
  const [a, b] = await Promise.all([ann.connect(), ben.connect()]);
  const spoolLeft = async () => (await readdir(h.stores.spoolDir).catch(() => [])).length;

  t.test('a photo and a PDF go from one person to another; a third cannot fetch them', async (t) => {
    const jpg = await photo(1200, 900);
    const up1 = await upload(h, ann, jpg, 'holiday.jpg', { 'content-type': 'text/html' });
    t.equal(up1.status, 201, 'the photo is stored');
    const pic: Attachment = json(up1).upload;
    t.match(pic, { name: 'holiday.jpg', type: 'image/jpeg', width: 1200, height: 900 }, 'type sniffed (the Content-Type said HTML), size measured');
    t.ok(pic.placeholder && pic.placeholder.length < 64, 'a ThumbHash placeholder');
    const up2 = await upload(h, ann, PDF, 'report.pdf');
    const doc: Attachment = json(up2).upload;
    t.match(doc, { type: 'application/pdf', size: PDF.length }, 'the PDF');
    t.equal((await fetchAs(h, ben, `/api/attachments/${pic.id}`)).status, 404, 'before a message carries it, nobody else may fetch it');
    const sent = await send(a, { to: ben.id, body: 'look', attachments: [pic.id, doc.id] });
    t.equal(sent.type, 'message.sent', 'the message is sent');
    const got = await b.next('message.new', (f) => f.message.sender === ann.id);
    t.same(got.message.attachments, [pic, doc], 'the recipient gets both, in order');
    const image = await fetchAs(h, ben, `/api/attachments/${pic.id}`);
    t.equal(image.status, 200, 'the recipient fetches the photo');
    t.equal(image.headers['content-type'], 'image/jpeg', 'as the sniffed type');
    t.equal(image.headers['x-content-type-options'], 'nosniff', 'nosniff');
    t.equal(image.headers['content-security-policy'], 'sandbox', 'sandboxed');
    t.match(image.headers['content-disposition'], /^inline; /, 'an image is inline');
    t.match(image.headers['cache-control'], /private/, 'private');
    t.match(image.headers['cache-control'], /immutable/, 'immutable');
    const meta = await sharp(image.body).metadata();
    t.equal(meta.exif, undefined, 'no EXIF (camera, GPS) left in what others fetch');
    t.match(String(jpg), /SecretCam/, 'the original did carry it');
    const thumb = await fetchAs(h, ben, `/api/attachments/${pic.id}/thumb`);
    t.equal(thumb.headers['content-type'], 'image/webp', 'a WebP thumbnail');
    t.ok(Math.max((await sharp(thumb.body).metadata()).width!, (await sharp(thumb.body).metadata()).height!) <= 320, 'at most 320 px');
    const part = await fetchAs(h, ben, `/api/attachments/${pic.id}`, { range: 'bytes=0-9' });
    t.equal(part.status, 206, 'a range of media');
    t.equal(part.body.length, 10, 'ten bytes');
    t.equal(part.headers['content-range'], `bytes 0-9/${image.body.length}`, 'Content-Range');
    const again = await fetchAs(h, ben, `/api/attachments/${pic.id}`, { 'if-none-match': String(image.headers.etag) });
    t.equal(again.status, 304, 'the ETag revalidates');
    const pdf = await fetchAs(h, ben, `/api/attachments/${doc.id}`);
    t.ok(pdf.body.equals(PDF), 'the PDF, byte for byte');
    t.match(pdf.headers['content-disposition'], /^attachment; filename="report.pdf"/, 'a file is an attachment');
    for (const path of [`/api/attachments/${pic.id}`, `/api/attachments/${pic.id}/thumb`, `/api/attachments/${doc.id}`]) {
      t.equal((await fetchAs(h, cat, path)).status, 404, `a third person gets 404 for ${path.slice(-6)}`);
    }
    t.equal((await fetchAs(h, cat, '/api/attachments/00000000-0000-4000-8000-000000000000')).status, 404, 'the same 404 as an id that does not exist');
    t.equal((await call(h.httpUrl, `/api/attachments/${doc.id}`)).status, 401, 'signed out: 401');
    t.equal(await spoolLeft(), 0, 'no temporary file left');
  });

  t.test('HTML and SVG are never served as a page', async (t) => {
    const html = Buffer.from('<!doctype html><script>parent.steal(document.cookie)</script>');
    const svg = Buffer.from('<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>');
    for (const [bytes, name] of [[html, 'cute.jpg'], [svg, 'logo.svg']] as const) {
      const up = await upload(h, ann, bytes, name, { 'content-type': 'image/jpeg' });
      const att: Attachment = json(up).upload;
      t.not(att.type, 'text/html', `${name}: not typed HTML`);
      t.notMatch(att.type, /svg|image\//, `${name}: not an image`);
      await send(a, { to: ben.id, attachments: [att.id] });
      const got = await fetchAs(h, ben, `/api/attachments/${att.id}`);
      t.match(got.headers['content-disposition'], /^attachment; /, `${name}: downloaded, not shown`);
      t.equal(got.headers['content-security-policy'], 'sandbox', `${name}: sandboxed if opened anyway`);
      t.equal(got.headers['x-content-type-options'], 'nosniff', `${name}: never sniffed by the browser`);
    }
  });

  t.test('bad uploads get their codes and leave nothing behind', async (t) => {
    const code = async (r: Promise<Raw>) => {
      const res = await r;
      return `${res.status} ${json(res).error?.code}`;
    };
    t.equal(await code(upload(h, ann, Buffer.alloc(0), 'empty.txt')), '400 file_empty', 'empty');
    t.equal(await code(upload(h, ann, Buffer.alloc(2 * 1024 * 1024, 1), 'big.bin')), '413 file_too_large', 'over the limit by Content-Length');
    t.equal(await code(upload(h, ann, PDF, '../../etc/passwd')), '400 invalid_file_name', 'a path');
    t.equal(await code(upload(h, ann, PDF, 'invoice\u202Efdp.exe')), '400 invalid_file_name', 'an RTL override');
    t.equal(await code(upload(h, ann, PDF, undefined)), '400 invalid_file_name', 'no name');
    t.equal(await code(upload(h, ann, PDF, undefined, { 'x-file-name': '%E0%A4%A' })), '400 invalid_file_name', 'a name that is not percent-encoded UTF-8');
    t.equal(await code(upload(h, ann, Buffer.from('not really a jpeg, but starts like one'), 'x.jpg')), '201 undefined', 'a lying extension is stored as what it is');
    const broken = (await photo(400, 300)).subarray(0, 600);
    t.equal(await code(upload(h, ann, broken, 'cut.jpg')), '422 image_unreadable', 'a truncated image');
    const bomb = await sharp({ create: { width: 5000, height: 5000, channels: 3, background: { r: 0, g: 0, b: 0 } } }).png({ compressionLevel: 9 }).toBuffer();
    t.ok(bomb.length < 1024 * 1024, `a decompression bomb is small (${bomb.length} bytes)`);
    t.equal(await code(upload(h, ann, bomb, 'bomb.png')), '422 image_too_large', 'a decompression bomb');
    t.equal(await spoolLeft(), 0, 'no temporary file left');
  });

  t.test('an over-limit upload is refused while it streams, before it is all read', async (t) => {
    // No Content-Length (chunked): the limit is found in the stream. Written with back-pressure.
    let written = 0;
    const status = await new Promise<number>((resolve, reject) => {
      const req = request(`${h.httpUrl}/api/uploads`, { method: 'POST', agent: false, headers: { origin: TEST_ORIGIN, cookie: `sid=${ann.sessionId}`, 'x-file-name': 'huge.bin' } }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', () => resolve(-1));
      const chunk = Buffer.alloc(64 * 1024, 7);
      const pump = () => {
        while (written < 200 * 1024 * 1024) {
          written += chunk.length;
          if (!req.write(chunk)) return void req.once('drain', pump);
        }
        req.end();
      };
      pump();
      void reject;
    });
    t.ok(status === 413 || status === -1, `refused (${status})`);
    t.ok(written < 32 * 1024 * 1024, `the client could write only ${(written / 1024 / 1024).toFixed(1)} MB of 200 MB`);
    t.equal(await spoolLeft(), 0, 'no temporary file left');
  });

  t.test('someone else\'s upload, an unknown one, a sent one, a room you are not in, before you joined', async (t) => {
    const c = await cat.connect();
    const mine: Attachment = json(await upload(h, cat, PDF, 'cat.pdf')).upload;
    const answer = await send(a, { to: ben.id, attachments: [mine.id] });
    t.match(answer, { type: 'error', code: 'attachment_not_found' }, 'someone else\'s upload');
    const unknown = await send(a, { to: ben.id, attachments: ['00000000-0000-4000-8000-000000000000'] });
    t.match(unknown, { type: 'error', code: 'attachment_not_found' }, 'an unknown upload');
    const own: Attachment = json(await upload(h, ann, PDF, 'one.pdf')).upload;
    const half = await send(a, { to: ben.id, attachments: [own.id, mine.id] });
    t.match(half, { type: 'error', code: 'attachment_not_found' }, 'one of them someone else\'s: refused whole');
    t.equal((await h.stores.uploads.get(own.id))!.claim, null, 'nothing half-applied: her own upload is still free');
    t.equal((await send(a, { to: ben.id, attachments: [own.id] })).type, 'message.sent', 'then sent alone');
    t.match(await send(a, { to: cat.id, attachments: [own.id] }), { type: 'error', code: 'attachment_not_found' }, 'an upload already sent with another message');
    // A group: Cat is added after the photo was sent, and cannot fetch it; a later one she can.
    const ref = `g${++refs}`;
    a.send({ type: 'group.create', ref, name: 'G', members: [ben.id] });
    const g = (await a.next('group.done', (f) => f.ref === ref)).room!;
    const early: Attachment = json(await upload(h, ann, PDF, 'early.pdf')).upload;
    await send(a, { room: g, attachments: [early.id] });
    t.equal((await fetchAs(h, cat, `/api/attachments/${early.id}`)).status, 404, 'not a member: 404');
    const add = `g${++refs}`;
    a.send({ type: 'group.add', ref: add, room: g, users: [cat.id] });
    await a.next('group.done', (f) => f.ref === add);
    const late: Attachment = json(await upload(h, ann, PDF, 'late.pdf')).upload;
    await send(a, { room: g, attachments: [late.id] });
    await c.next('message.new', (f) => f.message.room === g && f.message.attachments?.[0]?.id === late.id);
    t.equal((await fetchAs(h, cat, `/api/attachments/${early.id}`)).status, 404, 'sent before she joined: 404');
    t.equal((await fetchAs(h, cat, `/api/attachments/${late.id}`)).status, 200, 'sent after: hers to fetch');
  });

  t.test('the quota and uploads at once', async (t) => {
    const dan = await h.user();
    const big = Buffer.alloc(900 * 1024, 3);
    const results = await Promise.all(Array.from({ length: 8 }, (_, i) => upload(h, dan, Buffer.concat([big, Buffer.from([i])]), `f${i}.bin`)));
    const codes = results.map((r) => (r.status === 201 ? 'ok' : json(r).error.code));
    t.ok(codes.includes('too_many_uploads'), `more than 2 at once are refused (${codes.join(',')})`);
    t.ok(codes.every((c) => ['ok', 'too_many_uploads', 'upload_quota_exceeded'].includes(c)), 'nothing else went wrong');
    while ((await h.stores.uploads.bytesOf(dan.id)) + big.length + 1 <= 3 * 1024 * 1024) t.equal((await upload(h, dan, big, 'more.bin')).status, 201, 'within the quota');
    const over = await upload(h, dan, big, 'over.bin');
    t.equal(json(over).error?.code, 'upload_quota_exceeded', 'past the quota');
    t.ok((await h.stores.uploads.bytesOf(dan.id)) <= 3 * 1024 * 1024, 'the quota holds');
    t.equal(await spoolLeft(), 0, 'no temporary file left');
  });

  t.test('an upload never sent is deleted after the TTL; a deleted message takes its attachments along', async (t) => {
    const eve = await h.user();
    const e = await eve.connect();
    const kept: Attachment = json(await upload(h, eve, PDF, 'kept.pdf')).upload;
    const gone: Attachment = json(await upload(h, eve, PDF, 'gone.pdf')).upload;
    const sent = await send(e, { to: ben.id, attachments: [kept.id] });
    t.equal(sent.type, 'message.sent', 'one of them is sent');
    scheduler.advance(1001);
    t.ok((await h.node.sweeper.sweep()) >= 1, 'the sweep deletes the uploads never sent (earlier tests left some too)');
    t.equal((await fetchAs(h, eve, `/api/attachments/${gone.id}`)).status, 404, 'the unsent one is gone, for its owner too');
    t.equal(await h.stores.blobs.size(`a/${gone.id}`), null, 'and its bytes');
    t.equal((await fetchAs(h, ben, `/api/attachments/${kept.id}`)).status, 200, 'the sent one stays');
    const seq = (sent as Extract<Answer, { type: 'message.sent' }>).seq;
    const room = [eve.id, ben.id].sort((x, y) => x - y).join('-');
    e.send({ type: 'message.delete', room, seq, for: 'everyone', ref: 'del' });
    await e.next('message.changed', (f) => f.ref === 'del');
    await until(async () => (await h.stores.blobs.size(`a/${kept.id}`)) === null, 10_000, 'the deleted message\'s bytes deleted');
    t.equal((await fetchAs(h, ben, `/api/attachments/${kept.id}`)).status, 404, 'deleted for everyone: nobody fetches it');
  });
}

/**
 * The text rule at the edge, over a real WebSocket and real HTTP against a running router: every
 * string a client sends is refused with `invalid_frame` / `invalid_request` naming the field (never
 * a 500, never the value echoed) when it breaks the rule, and what is accepted is stored,
 * acknowledged, delivered live and returned by history as the very same string, so an identical
 * retry is always a duplicate. The rule itself is unit-tested in test/text.rule.test.ts.
 */
import t, { type Test } from 'tap';
import type { ServerFrame } from '../../protocol/frames.ts';
import { directRoomId, LIMITS } from '../../protocol/frames.ts';
import { call, type Answer } from '../../test/support/http.client.ts';
import { modes, startNode, TEST_ORIGIN, type TestUser } from '../../test/support/router.harness.ts';
import { SoftCredential } from '../../test/support/webauthn.authenticator.ts';

type ErrorFrame = Extract<ServerFrame, { type: 'error' }>;

/** A message that is printable ASCII: it cannot be carrying the client's bad character back. */
const PRINTABLE = /^[\x20-\x7e]+$/;

let n = 0;
const unique = (prefix: string) => `${prefix}${process.pid % 10000}x${++n}`;

/** The fullwidth form of an ASCII string (ａｌｉｃｅ): looks the same, other code points. */
const fullwidth = (s: string) => s.replace(/[!-~]/g, (c) => String.fromCharCode(c.charCodeAt(0) + 0xfee0));
/** The mathematical bold form of lower-case letters and digits (𝐚𝐥𝐢𝐜𝐞𝟏). */
const mathBold = (s: string) =>
  [...s].map((c) => (/[a-z]/.test(c) ? String.fromCodePoint(0x1d41a + c.charCodeAt(0) - 97) : /[0-9]/.test(c) ? String.fromCodePoint(0x1d7ce + c.charCodeAt(0) - 48) : c)).join('');

for (const mode of modes(t, 'the text rule')) {
  t.test(`the text rule on the ${mode.name}`, async (t) => {
    const h = await startNode(t, await mode.env(t));

    /** A sender and a recipient, both connected; their room is empty. */
    const pair = async () => {
      const sender = await h.user();
      const recipient = await h.user();
      const s = await sender.connect();
      const r = await recipient.connect();
      return { sender, recipient, s, r, room: directRoomId(sender.id, recipient.id) };
    };

    t.test('message bodies over a real WebSocket', async (t) => {
      t.test('a body that breaks the rule is refused with invalid_frame naming the body, and nothing is stored or delivered', async (t) => {
        const p = await pair();
        const bad: Array<[string, string, string]> = [
          ['a NUL', 'x\u0000', 'contains a control character'],
          ['a NUL alone', '\u0000', 'contains a control character'],
          ['a lone high surrogate', 'x\ud800y', 'is not well-formed UTF-16'],
          ['a lone low surrogate', 'x\udc00', 'is not well-formed UTF-16'],
          ['a surrogate pair reversed', '\ude00\ud83d', 'is not well-formed UTF-16'],
          ['a C0 control (ESC)', 'a\u001b[31mred', 'contains a control character'],
          ['a carriage return', 'a\r\nb', 'contains a control character'],
          ['a vertical tab', 'a\u000bb', 'contains a control character'],
          ['DEL', 'a\u007f', 'contains a control character'],
          ['a C1 control (NEL)', 'a\u0085b', 'contains a control character'],
          ['a C1 control (CSI)', 'a\u009b31m', 'contains a control character'],
          ['only zero-width spaces', '\u200b\u200b', 'is empty or only whitespace or invisible characters'],
          ['only a BOM', '\ufeff', 'is empty or only whitespace or invisible characters'],
          ['only joiners and a word joiner', '\u200d\u200c\u2060', 'is empty or only whitespace or invisible characters'],
          ['only Hangul fillers', '\u3164\u115f', 'is empty or only whitespace or invisible characters'],
          ['only a braille blank', '\u2800', 'is empty or only whitespace or invisible characters'],
          ['only whitespace', ' \n\t ', 'is empty or only whitespace or invisible characters'],
        ];
        for (const [what, body, problem] of bad) {
          const clientMsgId = unique('bad');
          const answer = await p.s.sendMessage({ to: p.recipient.id }, body, clientMsgId);
          t.match(answer, { type: 'error', code: 'invalid_frame', ref: clientMsgId }, `${what}: invalid_frame with the clientMsgId as ref`);
          const message = (answer as ErrorFrame).message ?? '';
          t.ok(message.startsWith(`body: ${problem}`), `${what}: the message names the field and the problem ("${message}")`);
          t.match(message, PRINTABLE, `${what}: the message does not echo the value`);
        }
        t.equal(await h.stores.history.lastSeq(p.room), 0, 'nothing was stored in the room');
        const ok = await p.s.sendMessage({ to: p.recipient.id }, 'a valid one');
        t.match(ok, { type: 'message.sent', seq: 1 }, 'the next valid message gets seq 1: no seq was used before');
        await p.r.next('message.new', (f) => f.message.seq === 1);
        t.same(p.r.all('message.new').map((f) => f.message.body), ['a valid one'], 'the recipient received only the valid message');
        t.equal(p.s.ws.readyState, p.s.ws.OPEN, 'the sender stays connected');
      });

      t.test('a lone surrogate sent twice is refused twice: never acknowledged, never a conflict', async (t) => {
        const p = await pair();
        const first = await p.s.sendMessage({ to: p.recipient.id }, 'x\ud800y', 'lone1');
        const retry = await p.s.sendMessage({ to: p.recipient.id }, 'x\ud800y', 'lone1');
        t.match(first, { type: 'error', code: 'invalid_frame' }, 'the first attempt is refused');
        t.match(retry, { type: 'error', code: 'invalid_frame' }, 'the identical retry is refused the same way, not a conflict');
        t.equal(await h.stores.history.lastSeq(p.room), 0, 'nothing was stored');
        const ok = await p.s.sendMessage({ to: p.recipient.id }, 'x\ufffdy', 'lone1');
        t.match(ok, { type: 'message.sent', seq: 1, duplicate: false }, 'the clientMsgId is still free for a valid body');
      });

      t.test('a bad ref is named in the error but never echoed back', async (t) => {
        const p = await pair();
        p.s.send({ type: 'ping', ref: 'r\u0000' });
        const err = await p.s.next('error');
        t.match(err, { code: 'invalid_frame', message: 'ref: contains a control character' }, 'invalid_frame naming ref');
        t.notOk('ref' in err, 'the error carries no ref');
        p.s.send({ type: 'message.send', to: p.recipient.id, clientMsgId: 'okid', ref: 'x\ud800', body: 'hi' });
        const err2 = await p.s.next('error');
        t.match(err2, { code: 'invalid_frame', message: 'ref: is not well-formed UTF-16 (it has a lone surrogate)', ref: 'okid' }, 'a send with a bad ref is matched by its clientMsgId instead');
      });

      t.test('an identical retry of any accepted body is a duplicate, and the body live, stored and in history is the body sent', async (t) => {
        const p = await pair();
        const bodies: Array<[string, string]> = [
          ['plain ASCII', 'hello there'],
          ['tab and line feed', 'line 1\n\tindented\nline 3\n'],
          ['emoji with skin tone and a flag', 'ok 👍🏽 🇫🇷 😀'],
          ['a ZWJ family and a variation selector', 'family 👨‍👩‍👧‍👦 ❤️'],
          ['NFC and NFD side by side', 'caf\u00e9 and cafe\u0301'],
          ['stacked combining marks', 'Z\u0351\u0352\u0357a\u0300\u0301\u0302'],
          ['astral letters', 'clef 𝄞 CJK-B 𠜎 bold 𝐀'],
          ['right-to-left with an override', 'مرحبا \u202eabc\u202c עברית \u200f'],
          ['zero-width characters inside text', 'a\u200bb\u2060c\ufeffd'],
          ['a noncharacter and private use', 'x\ufffe\uffff\ue000\u{10fffd}'],
          ['the longest body, all astral', '😀'.repeat(LIMITS.maxBodyLength / 2)],
        ];
        for (const [what, body] of bodies) {
          const clientMsgId = unique('rt');
          const first = await p.s.sendMessage({ to: p.recipient.id }, body, clientMsgId);
          if (first.type !== 'message.sent') {
            t.fail(`${what}: accepted (got ${JSON.stringify(first)})`);
            continue;
          }
          t.equal(first.duplicate, false, `${what}: the first send is stored`);
          const live = await p.r.next('message.new', (f) => f.message.clientMsgId === clientMsgId);
          t.equal(live.message.body, body, `${what}: the body delivered live is the body sent`);
          const retry = await p.s.sendMessage({ to: p.recipient.id }, body, clientMsgId);
          t.match(retry, { type: 'message.sent', duplicate: true, id: first.id, seq: first.seq }, `${what}: the identical retry is a duplicate with the same id and seq`);
          const [stored] = await h.stores.history.after(p.room, first.seq - 1, 1);
          t.equal(stored?.body, body, `${what}: the body stored is the body sent`);
          const ref = unique('h');
          p.s.send({ type: 'history.get', ref, room: p.room, after: first.seq - 1, limit: 1 });
          const page = await p.s.next('history.page', (f) => f.ref === ref);
          t.equal(page.messages[0]?.body, body, `${what}: the body in history is the body sent`);
        }
        t.equal(await h.stores.history.lastSeq(p.room), bodies.length, 'one message per body: no retry was stored twice');
        // A retry is fanned out again (its first attempt may not have been); the app keeps one per id.
        const ids = new Set(p.r.all('message.new').map((f) => f.message.id));
        t.equal(ids.size, bodies.length, 'the recipient got every message, each under one id');
      });

      t.test('a body that differs only in normalisation form is a different body: its clientMsgId is a conflict', async (t) => {
        const p = await pair();
        const first = await p.s.sendMessage({ to: p.recipient.id }, 'cafe\u0301', 'nf1');
        t.match(first, { type: 'message.sent' }, 'the NFD body is stored as sent');
        const other = await p.s.sendMessage({ to: p.recipient.id }, 'caf\u00e9', 'nf1');
        t.match(other, { type: 'error', code: 'conflict', ref: 'nf1' }, 'the NFC body under the same clientMsgId is a conflict (bodies are never normalised)');
      });
    });

    t.test('names and other text over real HTTP', async (t) => {
      const as = (u: TestUser) => ({ cookie: `sid=${u.sessionId}`, origin: TEST_ORIGIN });
      const req = (u: TestUser | null, path: string, method: string, body?: unknown) => call(h.httpUrl, path, { method, body, ...(u ? as(u) : { origin: TEST_ORIGIN }) });
      /** A 400 invalid_request whose message names `field` and `problem` and echoes nothing. */
      const refusedAs = (t: Test, r: Answer, field: string, problem: string, what: string) => {
        t.equal(r.status, 400, `${what}: 400, not 500`);
        t.equal(r.body?.error?.code, 'invalid_request', `${what}: invalid_request`);
        const message = String(r.body?.error?.message);
        t.ok(message.startsWith(`${field}: ${problem}`), `${what}: the message names ${field} ("${message}")`);
        t.match(message, PRINTABLE, `${what}: the message does not echo the value`);
      };

      t.test('PATCH /api/me refuses a display name that breaks the rule and stores a good one normalised', async (t) => {
        const u = await h.user();
        const bad: Array<[string, string, string]> = [
          ['a NUL', 'Ann\u0000', 'contains a control character'],
          ['a lone surrogate', 'Ann\ud800', 'is not well-formed UTF-16'],
          ['a tab', 'Ann\tB', 'contains a control character'],
          ['a C1 control', 'Ann\u0085', 'contains a control character'],
          ['a right-to-left override', 'Ann\u202egpj.exe', 'contains a bidirectional embedding, override or isolate'],
          ['only zero-width characters', '\u200b\u2060', 'is empty or only whitespace or invisible characters'],
          ['only spaces', '   ', 'is empty or only whitespace or invisible characters'],
        ];
        for (const [what, displayName, problem] of bad) refusedAs(t, await req(u, '/api/me', 'PATCH', { displayName }), 'displayName', problem, what);
        refusedAs(t, await req(u, '/api/me', 'PATCH', { avatarUrl: 'https://img.example/\u0000.png' }), 'avatarUrl', 'contains a control character', 'a NUL in avatarUrl');
        t.equal((await req(u, '/api/me', 'GET')).body.user.displayName, u.displayName, 'the display name is unchanged');

        const patched = await req(u, '/api/me', 'PATCH', { displayName: '  Zoe\u0308  ' });
        t.equal(patched.status, 200, 'a decomposed name with spaces is accepted');
        t.equal(patched.body.user.displayName, 'Zo\u00eb', 'it is stored NFC and trimmed, and the answer shows the stored form');
        t.equal((await req(u, '/api/me', 'GET')).body.user.displayName, 'Zo\u00eb', 'GET /api/me has the same string');
        const again = await req(u, '/api/me', 'PATCH', { displayName: 'Zo\u00eb' });
        t.equal(again.body.user.displayName, patched.body.user.displayName, 'the composed spelling stores the equal string');
        const c = await u.connect();
        t.equal((c.frames[0] as Extract<ServerFrame, { type: 'hello' }>).user.displayName, 'Zo\u00eb', 'hello carries the same string');
        const long = await req(u, '/api/me', 'PATCH', { displayName: 'e\u0301'.repeat(64) });
        t.equal(long.status, 200, '128 code units of NFD are 64 of NFC: the length counts the stored form');
      });

      t.test('passkey sign-up refuses bad text with 400 naming the field, and normalises handle and display name', async (t) => {
        refusedAs(t, await req(null, '/api/passkeys/signup/options', 'POST', { handle: unique('nul'), displayName: 'x\u0000' }), 'displayName', 'contains a control character', 'a NUL in displayName');
        refusedAs(t, await req(null, '/api/passkeys/signup/options', 'POST', { handle: unique('sur'), displayName: 'x\udfff' }), 'displayName', 'is not well-formed UTF-16', 'a lone surrogate in displayName');
        refusedAs(t, await req(null, '/api/passkeys/signup/options', 'POST', { handle: 'ab\u0000cd', displayName: 'X' }), 'handle', 'contains a control character', 'a NUL in handle');

        const handle = unique('fw_');
        const cred = new SoftCredential(TEST_ORIGIN);
        const options = await req(null, '/api/passkeys/signup/options', 'POST', { handle: fullwidth(handle.toUpperCase()), displayName: ' Zoe\u0308 ' });
        t.equal(options.status, 200, 'a fullwidth upper-case handle is accepted');
        const verify = await call(h.httpUrl, '/api/passkeys/signup/verify', { body: cred.attest(options.body), origin: TEST_ORIGIN });
        t.equal(verify.status, 200, 'the sign-up completes');
        t.match(verify.body.user, { handle, displayName: 'Zo\u00eb' }, 'the account has the ASCII handle and the NFC, trimmed name');
      });

      t.test('a passkey name is checked and normalised like a display name', async (t) => {
        const u = await h.user();
        refusedAs(t, await req(u, '/api/passkeys/options', 'POST', { name: 'Key\u0000' }), 'name', 'contains a control character', 'a NUL in a passkey name');
        refusedAs(t, await req(u, '/api/passkeys/options', 'POST', { name: '\ufeff' }), 'name', 'is empty or only whitespace or invisible characters', 'a BOM-only passkey name');
        const options = await req(u, '/api/passkeys/options', 'POST', { name: '  Cle\u0301  ' });
        t.equal(options.status, 200, 'a decomposed passkey name is accepted');
        const added = await req(u, '/api/passkeys', 'POST', new SoftCredential(TEST_ORIGIN).attest(options.body));
        t.equal(added.status, 201, 'the passkey is added');
        t.same(added.body.passkeys.map((p: { name: string }) => p.name), ['Cl\u00e9'], 'it is stored NFC and trimmed');
        refusedAs(t, await req(u, '/api/passkeys/%00', 'DELETE'), 'id', 'contains a control character', 'a NUL in a passkey id');
      });

      t.test('other free text reaching a store is refused, not a 500', async (t) => {
        refusedAs(t, await req(null, '/api/notifications/unsubscribe?token=%00abcdefghijk', 'GET'), 'token', 'contains a control character', 'a NUL in an unsubscribe token');
      });

      t.test('an unknown field is named only when its name is a plain identifier', async (t) => {
        const u = await h.user();
        refusedAs(t, await req(u, '/api/me', 'PATCH', { displayName: 'Ann', admin: true }), 'body', 'unknown field "admin"', 'a plain unknown key');
        refusedAs(t, await req(u, '/api/me', 'PATCH', { displayName: 'Ann', '\u0000\u202eevil\ud800': true }), 'body', 'unknown field', 'a hostile unknown key');
      });

      t.test('visually equal handles are one handle', async (t) => {
        const base = unique('hx');
        const taken = await h.user(base);
        for (const [what, form] of [
          ['upper case', base.toUpperCase()],
          ['fullwidth', fullwidth(base)],
          ['mathematical bold', mathBold(base)],
        ]) {
          const signup = await req(null, '/api/passkeys/signup/options', 'POST', { handle: form, displayName: 'Twin' });
          t.match(signup, { status: 409, body: { error: { code: 'handle_taken' } } }, `signing up with the ${what} form is handle_taken`);
          const found = await req(taken, `/api/users?handle=${encodeURIComponent(form!)}`, 'GET');
          t.equal(found.body?.user?.id, taken.id, `looking up the ${what} form finds the user`);
        }
        const kelvin = await h.user(unique('kx'));
        const k = await req(null, '/api/passkeys/signup/options', 'POST', { handle: `\u212a${kelvin.handle.slice(1)}`, displayName: 'K' });
        t.match(k, { status: 409, body: { error: { code: 'handle_taken' } } }, 'a Kelvin sign is the letter k');
        const cyrillic = await req(null, '/api/passkeys/signup/options', 'POST', { handle: `\u0430${unique('lice')}`, displayName: 'A' });
        t.match(cyrillic, { status: 400, body: { error: { code: 'invalid_request' } } }, 'a Cyrillic look-alike is refused, not made a second handle');
      });
    });
  });
}

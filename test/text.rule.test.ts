/**
 * The text rule itself (protocol/text.ts) and its zod schemas: what each kind of field refuses,
 * how names and handles are normalised, how provider text is sanitised. The same rule over a real
 * socket and real HTTP is router/test/text.hostile.test.ts.
 */
import t from 'tap';
import { HANDLE_PATTERN } from '../protocol/auth.ts';
import { handleSchema, passkeyNameBody, profilePatchBody, signupOptionsBody } from '../protocol/auth.schema.ts';
import { clientFrameSchema } from '../protocol/frames.schema.ts';
import { clipText, NAME_MAX_LENGTH, normaliseHandle, normaliseName, sanitiseName, TEXT_PROBLEMS, textProblem, type TextKind } from '../protocol/text.ts';
import { nameSchema } from '../protocol/text.schema.ts';
import { decode } from '../router/src/socket/connection.actor.ts';
import { mapGithub, mapOidc, mapYandex } from '../router/src/auth/oauth.providers.ts';
import { PushNotifier } from '../router/src/notify/push.notifier.ts';
import { PREVIEW_CHARS } from '../workers/tasks/task.types.ts';

const KINDS: TextKind[] = ['body', 'name', 'plain'];
const show = (s: string) => JSON.stringify(s);
/** The built-ins of ES2024 the rule must agree with (the project's TypeScript lib is ES2023). */
const builtin = (s: string) => s as unknown as { isWellFormed(): boolean; toWellFormed(): string };

/** Every C0 control, DEL and every C1 control. */
const CONTROLS = [...Array.from({ length: 0x20 }, (_, i) => i), ...Array.from({ length: 0x21 }, (_, i) => 0x7f + i)].map((c) => String.fromCharCode(c));

t.test('well-formed UTF-16', async (t) => {
  t.test('a lone surrogate is refused in every kind of field', async (t) => {
    for (const s of ['x\ud800y', '\udc00', 'end\ud83d', '\ude00\ud83d', '😀\ud800']) {
      for (const kind of KINDS) t.equal(textProblem(s, kind), TEXT_PROBLEMS.surrogate, `${show(s)} as ${kind}`);
    }
  });

  t.test('surrogate pairs (astral characters) pass', async (t) => {
    for (const s of ['😀', 'a𝄞b', '𠜎', '👨‍👩‍👧‍👦']) t.equal(textProblem(s, 'body'), null, `${show(s)} passes`);
  });

  t.test('the rule agrees with String.prototype.isWellFormed on random strings of code units', async (t) => {
    // Seeded, so a failure is reproducible: letters, a pair's halves, whole pairs.
    let seed = 12345;
    const rand = (n: number) => ((seed = (seed * 1103515245 + 12345) % 2 ** 31), seed % n);
    const units = ['a', 'é', '\ud83d', '\ude00', '\udbff', '\udc00', '😀', ' '];
    let disagreements = 0;
    for (let i = 0; i < 2000; i++) {
      const s = Array.from({ length: 1 + rand(6) }, () => units[rand(units.length)]).join('');
      const wellFormed = builtin(s).isWellFormed();
      if ((textProblem(s, 'plain') === TEXT_PROBLEMS.surrogate) === wellFormed) disagreements++;
      // What text.ts runs in a browser without isWellFormed.
      if (/\p{Cs}/u.test(s) === wellFormed) disagreements++;
    }
    t.equal(disagreements, 0, 'refused exactly when isWellFormed() is false, and the browser fallback agrees');
  });
});

t.test('control characters', async (t) => {
  t.test('every C0 and C1 control and DEL is refused in names and other text', async (t) => {
    const refused = CONTROLS.filter((c) => textProblem(`a${c}b`, 'name') === TEXT_PROBLEMS.control && textProblem(`a${c}b`, 'plain') === TEXT_PROBLEMS.control);
    t.equal(refused.length, CONTROLS.length, `all ${CONTROLS.length} controls are refused`);
  });

  t.test('bodies allow tab and line feed and refuse every other control', async (t) => {
    for (const c of CONTROLS) {
      const expected = c === '\n' || c === '\t' ? null : TEXT_PROBLEMS.control;
      t.equal(textProblem(`a${c}b`, 'body'), expected, `U+${c.charCodeAt(0).toString(16).padStart(4, '0')} in a body`);
    }
    t.equal(textProblem('line 1\nline 2\tcolumn', 'body'), null, 'a multi-line body with a tab passes');
  });
});

t.test('invisible text', async (t) => {
  const invisible = ['', ' ', ' \n\t ', '\u200b', '\ufeff', '\u2060', '\u200c\u200d', '\u00ad', '\u3164', '\u2800', '\ufe0f', '\u{e0041}', '\u200f', '\u3000'];
  t.test('bodies and names of only whitespace or invisible characters are refused', async (t) => {
    for (const s of invisible) {
      t.equal(textProblem(s, 'body'), TEXT_PROBLEMS.invisible, `body ${show(s)}`);
      t.equal(textProblem(s.replace(/[\n\t]/g, ''), 'name'), TEXT_PROBLEMS.invisible, `name ${show(s)}`);
    }
  });

  t.test('invisible characters inside visible text are kept', async (t) => {
    for (const s of ['a\u200bb', '\ufeffhi', '👨‍👩‍👧', '❤️', 'e\u0301', '\u0301']) t.equal(textProblem(s, 'body'), null, `${show(s)} passes`);
  });
});

t.test('bidirectional overrides', async (t) => {
  t.test('names refuse embeddings, overrides and isolates', async (t) => {
    for (const c of ['\u202a', '\u202b', '\u202c', '\u202d', '\u202e', '\u2066', '\u2067', '\u2068', '\u2069']) {
      t.equal(textProblem(`evil${c}gpj.exe`, 'name'), TEXT_PROBLEMS.bidi, `U+${c.charCodeAt(0).toString(16)} in a name`);
    }
  });

  t.test('bodies keep them and names keep the direction marks', async (t) => {
    t.equal(textProblem('abc \u202eمرحبا\u202c', 'body'), null, 'an override in a body passes');
    t.equal(textProblem('Ann \u200fשלום', 'name'), null, 'a right-to-left mark in a name passes');
  });
});

t.test('normalisation', async (t) => {
  t.test('names are NFC and trimmed, and normalising twice changes nothing', async (t) => {
    t.equal(normaliseName('  Zoe\u0308  '), 'Zoë', 'decomposed ë is composed, spaces trimmed');
    t.equal(normaliseName('\u3000Ann\u3000'), 'Ann', 'ideographic spaces are trimmed');
    t.equal(normaliseName('ＡＮＮ'), 'ＡＮＮ', 'fullwidth letters in a name are kept (NFC, not NFKC)');
    for (const s of ['Zoe\u0308', ' x ', '한국어', 'ﬁn']) t.equal(normaliseName(normaliseName(s)), normaliseName(s), `${show(s)} is stable`);
  });

  t.test('handles fold compatibility forms and case onto one ASCII handle', async (t) => {
    for (const s of ['alice', 'ALICE', ' Alice ', 'ａｌｉｃｅ', 'ＡＬＩＣＥ', '𝐚𝐥𝐢𝐜𝐞', '𝒂𝒍𝒊𝒄𝒆']) t.equal(normaliseHandle(s), 'alice', `${show(s)} is alice`);
    t.equal(normaliseHandle('\u212aate'), 'kate', 'the Kelvin sign is k');
    t.equal(normaliseHandle('ſam'), 'sam', 'a long s is s');
    t.equal(normaliseHandle('ﬁnn'), 'finn', 'a ligature is its letters');
  });

  t.test('look-alikes from other scripts are refused, not made a second handle', async (t) => {
    for (const s of ['\u0430lice', 'b\u03bfb', 'al\u0456ce']) {
      t.notOk(HANDLE_PATTERN.test(normaliseHandle(s)), `${show(s)} does not match the handle pattern`);
      t.notOk(handleSchema.safeParse(s).success, `${show(s)} is refused by the schema`);
    }
  });
});

t.test('provider text is sanitised into a valid name', async (t) => {
  t.equal(sanitiseName('  Eve\u0000 \ud800\u202e '), 'Eve \ufffd', 'controls and overrides dropped, a lone surrogate becomes U+FFFD, trimmed');
  t.equal(sanitiseName('Zoe\u0308'), 'Zoë', 'NFC like a name from the user');
  t.equal(sanitiseName('\u200b\u0000'), null, 'nothing visible left: null');
  t.equal(sanitiseName('a'.repeat(63) + '😀'), 'a'.repeat(63), 'a cut never leaves half a surrogate pair');
  t.equal(sanitiseName('x'.repeat(60) + '👨‍👩‍👧'), 'x'.repeat(60), 'a cut never leaves half an emoji');
  for (const s of ['a'.repeat(200), '😀'.repeat(40), 'e\u0301'.repeat(50), '\ud800'.repeat(70) + 'b']) {
    const name = sanitiseName(s);
    t.ok(name !== null && name.length <= NAME_MAX_LENGTH, `${show(s.slice(0, 8))}…: at most ${NAME_MAX_LENGTH} code units`);
    t.equal(textProblem(name ?? '', 'name'), null, `${show(s.slice(0, 8))}…: passes the rule`);
    t.equal(normaliseName(name ?? ''), name, `${show(s.slice(0, 8))}…: is already normalised, so the user could enter it as is`);
  }
});

t.test('an OAuth profile is sanitised, never refused, and never keyed by an altered value', async (t) => {
  const oidc = mapOidc({ sub: 'abc', name: 'Eve\u0000 \ud800\u202e', preferred_username: 'eve\u0007', email: 'eve\u0000@example.org', picture: 'https://img.example/a\u0000.png' });
  t.equal(oidc.name, 'Eve \ufffd', 'the name is made a valid display name');
  t.equal(oidc.login, 'eve', 'the login too');
  t.equal(oidc.email, null, 'an e-mail that breaks the rule is dropped, not altered');
  t.equal(oidc.avatarUrl, 'https://img.example/a%00.png', 'the avatar URL is the parser\'s serialisation, without the raw NUL');
  t.throws(() => mapOidc({ sub: 'a\u0000b', name: 'X' }), 'a subject that breaks the rule fails the sign-in');
  t.throws(() => mapOidc({ sub: 's'.repeat(256) }), 'a subject longer than its column fails the sign-in');
  const gh = mapGithub({ id: 7, login: 'octo', name: 'a'.repeat(63) + '😀' }, []);
  t.equal(gh.name, 'a'.repeat(63), 'a long name is cut without leaving half a surrogate pair');
  t.equal(mapGithub({ id: 8, login: 'octo', name: '\u200b' }, []).name, 'octo', 'an invisible name falls back to the login');
  const ya = mapYandex({ id: '9', login: 'ivan', display_name: '\u0000', real_name: 'Ivan\u0085', default_email: 'x'.repeat(321) });
  t.match(ya, { name: 'Ivan', email: null, emailVerified: false }, 'Yandex: the next name is used, an over-long e-mail dropped');
});

t.test('clipping counts code units and cuts between grapheme clusters', async (t) => {
  t.equal(clipText('abc', 5), 'abc', 'short text is unchanged');
  t.equal(clipText('ab😀', 3), 'ab', 'an astral character that does not fit is left out whole');
  t.ok(builtin(clipText('😀'.repeat(150), 200)).isWellFormed(), 'a clipped preview is well-formed');

  t.test('a push preview of a long body never ends in half a surrogate pair', async (t) => {
    const published: unknown[] = [];
    const notifier = new PushNotifier({
      tasks: { publish: async (task: unknown) => void published.push(task) } as never,
      presence: { presenceOf: async () => new Map() } as never,
      registry: { ofUser: () => undefined } as never,
      log: { warn() {}, error() {} } as never,
      enabled: true,
    });
    const body = 'a'.repeat(PREVIEW_CHARS - 1) + '😀'.repeat(10);
    const message = { id: 'm1', room: '1-2', seq: 1, sender: 1, body, clientMsgId: 'c1', ts: 0 };
    notifier.messageStored(message, [1, 2], { id: 1, handle: 'a', displayName: 'A' });
    await notifier.drained();
    const preview = (published[0] as { preview?: string } | undefined)?.preview ?? '';
    t.equal(preview, `${'a'.repeat(PREVIEW_CHARS - 1)}…`, 'the emoji that does not fit is left out whole');
    t.ok(builtin(preview).isWellFormed(), 'the preview is well-formed');
  });
});

t.test('the schemas apply the rule and name the problem without the value', async (t) => {
  t.test('a name is normalised before its length is counted', async (t) => {
    t.equal(nameSchema.parse('  Zoe\u0308  '), 'Zoë', 'stored form');
    t.equal(nameSchema.parse('e\u0301'.repeat(64)), 'é'.repeat(64), '128 code units of NFD are 64 of NFC: accepted');
    t.notOk(nameSchema.safeParse('a'.repeat(65)).success, '65 code units are refused');
  });

  t.test('HTTP bodies refuse each kind of bad text with a message naming the problem', async (t) => {
    const cases: Array<[string, unknown, string]> = [
      ['a NUL in a display name', profilePatchBody.safeParse({ displayName: 'x\u0000' }), TEXT_PROBLEMS.control],
      ['a lone surrogate in a display name', signupOptionsBody.safeParse({ handle: 'abc', displayName: 'x\ud800' }), TEXT_PROBLEMS.surrogate],
      ['a zero-width display name', profilePatchBody.safeParse({ displayName: '\u200b' }), TEXT_PROBLEMS.invisible],
      ['a NUL in a passkey name', passkeyNameBody.safeParse({ name: 'key\u0000' }), TEXT_PROBLEMS.control],
      ['a NUL in a handle', signupOptionsBody.safeParse({ handle: 'ab\u0000c', displayName: 'X' }), TEXT_PROBLEMS.control],
      ['a NUL in an avatar URL', profilePatchBody.safeParse({ avatarUrl: 'https://a.example/\u0000' }), TEXT_PROBLEMS.control],
    ];
    for (const [what, result, problem] of cases) {
      const r = result as { success: boolean; error?: { issues: Array<{ message: string }> } };
      t.notOk(r.success, `${what} is refused`);
      t.equal(r.error?.issues[0]?.message, problem, `${what}: the message says "${problem}"`);
    }
  });

  t.test('a frame with a bad body or ref is invalid_frame naming the field and echoing neither', async (t) => {
    const send = (extra: object) => JSON.stringify({ type: 'message.send', to: 2, clientMsgId: 'c1', body: 'ok', ...extra });
    const nul = decode(send({ body: 'x\u0000' }));
    t.match(nul, { ok: false, error: { code: 'invalid_frame', message: 'body: contains a control character' }, ref: 'c1' }, 'NUL body: the message names the field');
    const lone = decode(send({ body: 'x\ud800y' }));
    t.match(lone, { ok: false, error: { message: 'body: is not well-formed UTF-16 (it has a lone surrogate)' } }, 'lone surrogate body');
    const badRef = decode(JSON.stringify({ type: 'ping', ref: 'r\u0000' }));
    t.match(badRef, { ok: false, error: { message: 'ref: contains a control character' } }, 'a bad ref is named');
    t.notOk(!badRef.ok && 'ref' in badRef && badRef.ref !== undefined, 'and not echoed back');
    t.ok(clientFrameSchema.safeParse(JSON.parse(send({ body: 'tab\there\nnew line 😀' }))).success, 'tab, line feed and emoji pass');
  });
});

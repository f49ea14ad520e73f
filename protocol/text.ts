/**
 * The text rule: one rule for every string a user gives the messenger (message bodies, display
 * names, passkey names, handles and the other free text of the WebSocket protocol and the HTTP
 * API), and for the strings an OAuth provider gives on a user's behalf. Plain functions without
 * zod, so the app runs the very same rule in the browser; text.schema.ts wraps them for the
 * router's edge. docs/protocol.md, "Text", is the prose.
 *
 * Why it exists: a NUL is refused by PostgreSQL (the whole group commit failed with it), and a lone
 * surrogate is not UTF-8: the store wrote U+FFFD where the sender had been acknowledged (and the
 * recipient sent) the original, so an identical retry became a `conflict`. A string that passes the
 * rule is stored, acknowledged and delivered as the very same code units.
 */

/** Which variant of the rule a field follows. */
export type TextKind =
  /** A message body: lines (`\n` and `\t` allowed), kept exactly as sent (never trimmed or normalised). */
  | 'body'
  /** A name shown inline (display name, passkey name): one line, no bidi overrides; trimmed and NFC. */
  | 'name'
  /** Any other free text (a request ref, a URL, a handle before its own pattern): one line. */
  | 'plain';

/** Longest display name and passkey name, in UTF-16 code units after normalisation (`maxlength` counts the same). */
export const NAME_MAX_LENGTH = 64;

/** Longest group name, in UTF-16 code units after normalisation: the name rule, with more room. */
export const GROUP_NAME_MAX_LENGTH = 128;

/** Why a string was refused: the message after `field: `; it never quotes the value. */
export const TEXT_PROBLEMS = {
  surrogate: 'is not well-formed UTF-16 (it has a lone surrogate)',
  control: 'contains a control character',
  bidi: 'contains a bidirectional embedding, override or isolate',
  invisible: 'is empty or only whitespace or invisible characters',
} as const;

/**
 * String.prototype.isWellFormed: native, and about twenty times faster than a `u` regex on a long
 * body of emoji. A browser without it (before 2023) gets the regex: in a `u` regex a lone surrogate
 * is `\p{Cs}`, a well-formed pair one astral code point.
 */
const isWellFormed: (s: string) => boolean =
  typeof (String.prototype as { isWellFormed?: unknown }).isWellFormed === 'function'
    ? (s) => (s as unknown as { isWellFormed(): boolean }).isWellFormed()
    : (s) => !/\p{Cs}/u.test(s);

// Controls are C0, DEL and C1 (`\p{Cc}`); bodies keep tab (U+0009) and line feed (U+000A). No `u`
// flag: these classes are all in the BMP, and a `u` scan of a long body of emoji is ten times slower.
const FORBIDDEN: Record<TextKind, RegExp> = {
  body: /[\0-\x08\x0B-\x1F\x7F-\x9F]/,
  // An unbalanced override in a name reorders whatever is shown after it on the line ("Trojan
  // source"); bodies keep them, right-to-left writers use them within their own text.
  name: /[\0-\x1F\x7F-\x9F\u202A-\u202E\u2066-\u2069]/,
  plain: /[\0-\x1F\x7F-\x9F]/,
};

/**
 * Something a reader can see: not White_Space, not Default_Ignorable_Code_Point (zero-width space,
 * joiners, word joiner, BOM, soft hyphen, variation selectors, Hangul fillers, tags, bidi marks),
 * and not U+2800 BRAILLE PATTERN BLANK, which renders as nothing.
 */
const VISIBLE = /[^\p{White_Space}\p{Default_Ignorable_Code_Point}\u2800]/u;

/** The problem of `value` under the rule of `kind`, or null when it passes. Lengths are the schema's. */
export function textProblem(value: string, kind: TextKind): string | null {
  if (!isWellFormed(value)) return TEXT_PROBLEMS.surrogate;
  const bad = FORBIDDEN[kind].exec(value)?.[0];
  if (bad !== undefined) return bad.charCodeAt(0) <= 0x9f ? TEXT_PROBLEMS.control : TEXT_PROBLEMS.bidi;
  if (kind !== 'plain' && !VISIBLE.test(value)) return TEXT_PROBLEMS.invisible;
  return null;
}

/**
 * A display name or passkey name as stored: NFC (canonically equivalent spellings such as a
 * precomposed é and e + U+0301 look the same and become the same string), then trimmed of
 * whitespace. Every entry applies it, so equal-looking input stores equal strings. NFC, not NFKC:
 * a name's fullwidth or stylised letters are its owner's choice, not a different identity.
 */
export function normaliseName(value: string): string {
  return value.normalize('NFC').trim();
}

/**
 * A handle as stored and looked up: NFKC, trimmed, lower-cased; HANDLE_PATTERN (protocol/auth.ts)
 * then admits only ASCII. NFKC folds the compatibility forms of ASCII letters and digits
 * (fullwidth `ａｌｉｃｅ`, mathematical `𝐚𝐥𝐢𝐜𝐞`, the Kelvin sign, ligatures) onto the letters they
 * show, so every form names one handle; look-alikes from other scripts (Cyrillic `а`) are not
 * folded and the ASCII-only pattern refuses them, so no second handle can look like a first one.
 */
export function normaliseHandle(value: string): string {
  return value.normalize('NFKC').trim().toLowerCase();
}

/**
 * Text that is not the user's input to refuse (an OAuth provider's profile name) made into a valid
 * name instead: lone surrogates become U+FFFD, controls and bidi overrides are dropped, it is
 * normalised like a name and cut at a grapheme boundary to at most `max` code units. Null when
 * nothing visible is left (the caller falls back to something else).
 */
export function sanitiseName(value: string, max = NAME_MAX_LENGTH): string | null {
  const cleaned = normaliseName(value.replace(/\p{Cs}/gu, '\uFFFD').replace(new RegExp(FORBIDDEN.name.source, 'g'), ''));
  const name = clipText(cleaned, max).trim();
  return textProblem(name, 'name') === null ? name : null;
}

/**
 * The longest prefix of whole grapheme clusters of at most `max` UTF-16 code units: a preview or a
 * cut name never ends in half a surrogate pair (which UTF-8 would turn into U+FFFD) or half an emoji.
 */
export function clipText(value: string, max: number): string {
  if (value.length <= max) return value;
  let out = '';
  for (const { segment } of new Intl.Segmenter(undefined, { granularity: 'grapheme' }).segment(value)) {
    if (out.length + segment.length > max) break;
    out += segment;
  }
  return out;
}

/**
 * The app's sentences for error codes: one for every code the server can send, each a sentence a
 * person can read (capitalised, ended, not the server's developer text).
 */
import t from 'tap';
import { ERROR_CODES } from '../../protocol/errors.ts';
import { explain, SENTENCES, sentenceFor } from '../src/lib/errors.ts';

t.test('every error code has a sentence, and only those', async (t) => {
  t.same(Object.keys(SENTENCES).sort(), Object.keys(ERROR_CODES).sort());
});

t.test('each reads as a sentence for a person, not as the server text', async (t) => {
  for (const [code, sentence] of Object.entries(SENTENCES)) {
    t.match(sentence, /^[A-Z].*[.!]$/s, `${code}: capitalised and ended`);
    t.not(sentence, ERROR_CODES[code as keyof typeof ERROR_CODES].text, `${code}: not the server's text`);
  }
});

t.test('an unknown code still gets a sentence', async (t) => {
  t.equal(sentenceFor('from_a_newer_server'), 'Something went wrong. Please try again.');
  t.equal(sentenceFor('handle_taken'), SENTENCES.handle_taken);
});

t.test('explain: API codes, the browser passkey errors by name, and a general sentence for the rest', async (t) => {
  const withCode = (code: string, name = 'Error') => Object.assign(new Error('raw server text'), { code, name });
  t.equal(explain(withCode('last_credential')), SENTENCES.last_credential, 'an API error by its code');
  t.match(explain(withCode('network')), /offline/, 'no network');
  t.match(explain(withCode('ERROR_AUTHENTICATOR_PREVIOUSLY_REGISTERED', 'InvalidStateError')), /already holds a passkey/, 'a passkey this authenticator has');
  t.match(explain(Object.assign(new Error('The operation either timed out or was not allowed.'), { name: 'NotAllowedError' })), /cancelled or timed out/, 'a cancelled prompt');
  t.equal(explain(new Error('TypeError: x is undefined')), 'Something went wrong. Please try again.', 'never a raw message');
  t.equal(explain('a string'), 'Something went wrong. Please try again.', 'not even a thrown string');
});

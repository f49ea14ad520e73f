/**
 * Request bodies are JSON only when their Content-Type says application/json, parsed as a media
 * type: no prefix match, no look-alike.
 */
import t from 'tap';
import { isJsonMediaType } from '../src/http/json.ts';
import { call } from '../../test/support/http.client.ts';
import { startNode, TEST_ORIGIN } from '../../test/support/router.harness.ts';

const JSON_TYPES = [
  'application/json',
  'Application/JSON',
  'application/json; charset=utf-8',
  'application/json;charset=UTF-8',
  'application/json ; charset="utf-8"',
  'application/json; charset=utf8',
  'application/json; profile="https://example.com/a;b"',
  'application/json;',
];

const NOT_JSON = [
  undefined,
  '',
  'application/jsonx',
  'application/json-seq',
  'application/json5',
  'application/jsonp; charset=utf-8',
  'application/merge-patch+json',
  'application/vnd.api+json',
  'text/json',
  'text/plain',
  'application/x-www-form-urlencoded',
  'application/json, text/plain',
  'application/json; charset=iso-8859-1',
  'application/json; charset="utf-16"',
  'application/json; charset',
  'application/json; =utf-8',
  'application/json garbage',
  'application/ json',
  '/json',
  'application/*',
  '*/*',
];

t.test('a Content-Type is JSON only when it parses as application/json', async (t) => {
  for (const type of JSON_TYPES) t.ok(isJsonMediaType(type), `${JSON.stringify(type)} is JSON`);
  for (const type of NOT_JSON) t.notOk(isJsonMediaType(type), `${JSON.stringify(type)} is not JSON`);
});

t.test('a JSON route refuses a body that is not application/json with 415 unsupported_media_type', async (t) => {
  const h = await startNode(t);
  const user = await h.user();
  const patch = (contentType: string) =>
    call(h.httpUrl, '/api/me', {
      method: 'PATCH',
      rawBody: JSON.stringify({ displayName: `Named by ${contentType}` }),
      headers: { 'content-type': contentType },
      cookie: `sid=${user.sessionId}`,
      origin: TEST_ORIGIN,
    });

  t.test('look-alikes are refused and change nothing', async (t) => {
    for (const type of ['application/jsonx', 'application/json-patch+json', 'text/plain', 'application/json; charset=latin1']) {
      const res = await patch(type);
      t.equal(res.status, 415, `${type}: status 415`);
      t.same(res.body, { error: { code: 'unsupported_media_type', message: 'the request body must be application/json' } }, `${type}: the documented code`);
    }
    const stored = await h.stores.relational.getUser(user.id);
    t.equal(stored?.displayName, user.displayName, 'the display name is unchanged');
  });

  t.test('application/json in any case, with a UTF-8 charset, is read', async (t) => {
    const res = await patch('Application/Json; Charset="UTF-8"');
    t.equal(res.status, 200, 'status 200');
    t.equal(res.body.user.displayName, 'Named by Application/Json; Charset="UTF-8"', 'the new display name is answered');
  });
});

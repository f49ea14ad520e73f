/**
 * The word rule and snippets of search (protocol/search.ts), which the router, both stores and
 * the app share.
 */
import t from 'tap';
import { LIMITS } from '../protocol/limits.ts';
import { parseSearchQuery, searchSnippet, searchWords, SEARCH_WORDS_MAX, SNIPPET_LENGTH } from '../protocol/search.ts';

t.test('a query is its words: operators, regex and JSON syntax are separators', async (t) => {
  t.same(parseSearchQuery('  Hello, WORLD!  '), ['hello', 'world'], 'lower case, punctuation dropped');
  t.same(parseSearchQuery('a&b|!c:*(d)'), ['a', 'b', 'c', 'd'], 'tsquery operators');
  t.same(parseSearchQuery('{"$where": "sleep(1)"}'), ['where', 'sleep', '1'], 'a MongoDB operator is a word');
  t.same(parseSearchQuery('.*+?^${}[]\\|'), null, 'only regex metacharacters: nothing to search');
  t.same(parseSearchQuery(''), null, 'empty');
  t.same(parseSearchQuery('x'.repeat(LIMITS.searchQueryMax + 1)), null, 'over the length limit');
  t.same(parseSearchQuery('x'.repeat(LIMITS.searchQueryMax)), ['x'.repeat(LIMITS.searchQueryMax)], 'at the limit');
  t.equal(parseSearchQuery(Array.from({ length: 20 }, (_, i) => `w${i}`).join(' '))!.length, SEARCH_WORDS_MAX, 'at most SEARCH_WORDS_MAX words');
  t.same(searchWords('e\u0301cole ÉCOLE नमस्ते 😀x²'), ['école', 'école', 'नमस्ते', 'x'], 'NFC, marks inside words, emoji and superscripts separate');
});

t.test('a snippet is plain text around the first match, with every match marked', async (t) => {
  const short = searchSnippet('Message me\nabout the mess', ['mess']);
  t.same(short, { text: 'Message me about the mess', marks: [[0, 7], [21, 25]] }, 'a short body whole, line breaks as spaces, prefix and word marked');
  const long = `${'lorem ipsum '.repeat(20)}the needle is here${' dolor sit'.repeat(20)}`;
  const s = searchSnippet(long, ['needle']);
  t.ok(s.text.startsWith('…') && s.text.endsWith('…'), 'cut at both ends, with ellipses');
  t.ok(s.text.length <= SNIPPET_LENGTH + 2, 'about SNIPPET_LENGTH long');
  t.equal(s.marks.length, 1, 'one match in it');
  t.equal(s.text.slice(...s.marks[0]!), 'needle', 'the mark covers the match');
  const emoji = searchSnippet(`${'😀'.repeat(100)} word`, ['word']);
  t.notOk(/^…?[\udc00-\udfff]/.test(emoji.text), 'never starts inside a surrogate pair');
  t.equal(emoji.text.slice(...emoji.marks[0]!), 'word', 'and the mark still fits');
  t.same(searchSnippet('no match here', ['absent']), { text: 'no match here', marks: [] }, 'without a match: the start, unmarked');
  t.same(searchSnippet('<b>bold</b> &amp;', ['bold']).text, '<b>bold</b> &amp;', 'markup stays text, never interpreted');
});

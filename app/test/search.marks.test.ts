/**
 * Search snippets as the app renders them (app/src/lib/search/marks.ts): the snippet's text cut into
 * plain and marked parts by the [start, end) offsets the server sends, which are network input and
 * so may be out of range, empty, unordered or overlapping. The parts always join back to the text.
 */
import t from 'tap';
import { snippetParts } from '../src/lib/search/marks.ts';

const show = (text: string, marks: Array<[number, number]>) =>
  snippetParts(text, marks)
    .map((p) => (p.mark ? `[${p.text}]` : p.text))
    .join('');

t.test('marks become parts that join back to the text', async (t) => {
  t.equal(show('the message arrived', [[4, 11]]), 'the [message] arrived', 'one mark in the middle');
  t.equal(show('message', [[0, 7]]), '[message]', 'a mark over the whole text is one part');
  t.same(snippetParts('message', [[0, 7]]), [{ text: 'message', mark: true }], 'and no empty parts around it');
  t.equal(show('jam and jam', [[8, 11], [0, 3]]), '[jam] and [jam]', 'unordered marks are sorted');
  t.equal(show('no marks', []), 'no marks', 'no marks: the plain text');
  t.same(snippetParts('', []), [], 'an empty snippet has no parts');
});

t.test('marks that are not tidy are clamped or merged, never trusted', async (t) => {
  t.equal(show('abcdef', [[-5, 2]]), '[ab]cdef', 'a start before the text is clamped to 0');
  t.equal(show('abcdef', [[4, 99]]), 'abcd[ef]', 'an end past the text is clamped to its length');
  t.equal(show('abcdef', [[3, 3], [5, 2]]), 'abcdef', 'empty and reversed spans mark nothing');
  t.equal(show('abcdef', [[1, 4], [2, 5]]), 'a[bcde]f', 'overlapping spans read as one mark');
  t.equal(show('abcdef', [[1, 3], [3, 5]]), 'a[bcde]f', 'touching spans read as one mark');
  t.equal(show('abcdef', [[1, 5], [2, 3]]), 'a[bcde]f', 'a span inside another adds nothing');
  t.equal(show('abcdef', [[Number.NaN, 2], [1.7, 3.2]]), '[abc]def', 'non-integers are truncated, NaN read as 0');
  for (const marks of [[[0, 3], [2, 9]], [[5, 1]], [[-1, 100]]] as Array<Array<[number, number]>>) {
    t.equal(snippetParts('abcdef', marks).map((p) => p.text).join(''), 'abcdef', `the parts join back to the text with ${JSON.stringify(marks)}`);
  }
});

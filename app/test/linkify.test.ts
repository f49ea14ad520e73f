/**
 * Links in message text (lib/linkify.ts): which text becomes a link, where it opens, and what stays
 * plain text however it is written (other schemes, e-mail addresses, file names, numbers).
 */
import t from 'tap';
import { linkify, type Part } from '../src/lib/linkify.ts';

const links = (text: string) => linkify(text).filter((p) => p.href).map((p) => [p.text, p.href]);
const joined = (parts: Part[]) => parts.map((p) => p.text).join('');

t.test('linkify', async (t) => {
  t.test('links http and https URLs as written', async (t) => {
    t.same(links('see https://example.com/a?b=1#c now'), [['https://example.com/a?b=1#c', 'https://example.com/a?b=1#c']], 'an https URL with query and fragment');
    t.same(links('http://example.org'), [['http://example.org', 'http://example.org/']], 'an http URL keeps http');
    t.same(links('HTTPS://Example.COM/X'), [['HTTPS://Example.COM/X', 'https://example.com/X']], 'the scheme and host in capitals');
  });

  t.test('links www. addresses and bare domains with a path, opening them as https', async (t) => {
    t.same(links('meet at www.example.com tonight'), [['www.example.com', 'https://www.example.com/']], 'www. without a scheme');
    t.same(links('menu: example.com/menu/today'), [['example.com/menu/today', 'https://example.com/menu/today']], 'a bare domain with a path');
    t.same(links('docs.example.co.uk/a/b?x=1'), [['docs.example.co.uk/a/b?x=1', 'https://docs.example.co.uk/a/b?x=1']], 'subdomains and a two-part top-level domain');
    t.same(links('(www.example.com)'), [['www.example.com', 'https://www.example.com/']], 'in brackets');
  });

  t.test('leaves a bare domain without a path, e-mail addresses, numbers and file paths alone', async (t) => {
    t.same(links('see you at example.com'), [], 'a bare domain alone');
    t.same(links('write to bob@example.com/x or bob@www.example.com'), [], 'after an @');
    t.same(links('version 1.5/2 and 10.2/3'), [], 'numbers with a slash');
    t.same(links('open app/src/lib/time.ts/x and ./www.example.com'), [], 'inside a path');
    t.same(links('foo_bar.com/x'), [], 'a host name with an underscore');
  });

  t.test('never links another scheme', async (t) => {
    for (const text of ['javascript:alert(1)', 'JaVaScRiPt:alert(document.cookie)', 'data:text/html,<b>x</b>', 'vbscript:msgbox', 'file:///etc/passwd', 'javascript://example.com/%0aalert(1)']) {
      const parts = linkify(text);
      t.ok(parts.every((p) => !p.href || p.href.startsWith('https://') || p.href.startsWith('http://')), `only http(s) links in ${JSON.stringify(text)}`);
      t.notOk(parts.some((p) => p.href && /^(javascript|data|vbscript|file):/i.test(p.href)), `no dangerous href in ${JSON.stringify(text)}`);
    }
    t.same(links('javascript:alert(1)'), [], 'javascript: stays text');
  });

  t.test('drops the punctuation that ends a sentence, keeps brackets a URL opened', async (t) => {
    t.same(links('Look: https://example.com/a.'), [['https://example.com/a', 'https://example.com/a']], 'a full stop');
    t.same(links('really? www.example.com!?'), [['www.example.com', 'https://www.example.com/']], 'question and exclamation marks');
    t.same(links('(see https://example.com/x)'), [['https://example.com/x', 'https://example.com/x']], 'a closing bracket it did not open');
    t.same(links('https://en.wikipedia.org/wiki/Svelte_(software), nice'), [['https://en.wikipedia.org/wiki/Svelte_(software)', 'https://en.wikipedia.org/wiki/Svelte_(software)']], 'a bracket pair inside the URL');
  });

  t.test('gives the whole text back, in order', async (t) => {
    for (const text of ['', 'no links here', 'a www.example.com b https://x.org/ c example.com/p.', 'https://', 'www.']) {
      t.equal(joined(linkify(text)), text, `parts join to ${JSON.stringify(text)}`);
    }
    t.same(linkify('a https://x.org b'), [{ text: 'a ' }, { text: 'https://x.org', href: 'https://x.org/' }, { text: ' b' }], 'plain, link, plain');
  });
});

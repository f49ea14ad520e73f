import t from 'tap';
import { contentDisposition, downloadName, fileNameProblem, normaliseFileName } from '../src/attachments/file.name.ts';

t.test('a file name follows the name rule and names no path', async (t) => {
  for (const good of ['report.pdf', 'Фото 2026.jpg', '.bashrc', 'a.b.c', 'résumé.docx', '😀.png']) {
    t.equal(fileNameProblem(normaliseFileName(good)), null, `${JSON.stringify(good)} is a valid name`);
  }
  const bad: Record<string, string> = {
    '': 'is empty',
    '../../etc/passwd': 'names a path, not a file',
    '..\\..\\boot.ini': 'names a path, not a file',
    '..': 'names a path, not a file',
    'invoice\u202Efdp.exe': 'contains a bidirectional embedding, override or isolate',
    'a\u2066b.txt': 'contains a bidirectional embedding, override or isolate',
    'nul\0.txt': 'contains a control character',
    'line\nbreak.txt': 'contains a control character',
    '\u200B\u200B': 'is empty or only whitespace or invisible characters',
    ['x'.repeat(201)]: 'is longer than 200 characters',
  };
  for (const [name, problem] of Object.entries(bad)) {
    t.equal(fileNameProblem(normaliseFileName(name)), problem, `${JSON.stringify(name.slice(0, 30))} is refused: ${problem}`);
  }
});

t.test('a download adds the true extension when the name says another', async (t) => {
  t.equal(downloadName('cat.jpg', 'png'), 'cat.jpg.png', 'a PNG named .jpg');
  t.equal(downloadName('cat.JPEG', 'jpg'), 'cat.JPEG', 'jpeg is jpg, in any case');
  t.equal(downloadName('report.pdf', 'pdf'), 'report.pdf', 'a true extension is kept');
  t.equal(downloadName('notes', 'pdf'), 'notes.pdf', 'no extension: the true one');
  t.equal(downloadName('page.html', undefined), 'page.html', 'a type the bytes do not tell (text) keeps the name');
});

t.test('Content-Disposition carries any name safely', async (t) => {
  t.equal(contentDisposition('attachment', 'report.pdf'), `attachment; filename="report.pdf"; filename*=UTF-8''report.pdf`);
  const h = contentDisposition('inline', 'Фото "1";\\x.jpg');
  t.notMatch(h, /[^\x20-\x7E]/, 'the header is ASCII');
  t.match(h, /^inline; filename="[^"\\]*"; filename\*=UTF-8''[^ ;"]+$/, 'quotes and backslashes cannot end the quoted name');
  t.equal(decodeURIComponent(h.split("''")[1]!), 'Фото "1";\\x.jpg', 'filename* decodes to the exact name');
});

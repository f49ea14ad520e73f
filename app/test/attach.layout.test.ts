import t from 'tap';
import { gridOf, gridRows, humanSize, overallProgress, photoBox, typeLabel } from '../src/lib/attach/layout.ts';

t.test('photos are laid out in rows of at most 3, the odd ones on top', async (t) => {
  t.same(gridRows(0), []);
  t.same(gridRows(1), [1]);
  t.same(gridRows(2), [2]);
  t.same(gridRows(3), [1, 2]);
  t.same(gridRows(4), [1, 3]);
  t.same(gridRows(5), [2, 3]);
  t.same(gridRows(6), [3, 3]);
  t.same(gridRows(7), [1, 3, 3]);
  t.same(gridRows(10), [1, 3, 3, 3]);
  for (let n = 1; n <= 10; n++) {
    const rows = gridRows(n);
    t.equal(rows.reduce((a, b) => a + b, 0), n, `${n} photos all placed`);
    t.ok(rows.every((r) => r >= 1 && r <= 3), `${n} photos: rows of 1 to 3`);
  }
  t.same(gridOf(['a', 'b', 'c', 'd', 'e']), [['a', 'b'], ['c', 'd', 'e']], 'in the order sent');
});

t.test('a lone photo keeps its shape within the box', async (t) => {
  t.same(photoBox(4000, 3000, 320, 320), { width: 320, height: 240 }, 'landscape fits the width');
  t.same(photoBox(3000, 4000, 320, 320), { width: 240, height: 320 }, 'portrait fits the height');
  t.same(photoBox(100, 50, 320, 320), { width: 100, height: 96 }, 'small stays small but never thinner than the minimum');
  t.same(photoBox(10000, 100, 320, 320), { width: 320, height: 96 }, 'a panorama is cropped, not a sliver');
  t.same(photoBox(0, 0, 320, 320), { width: 320, height: 240 }, 'unknown size: a 4:3 box');
});

t.test('sizes and types in words', async (t) => {
  t.equal(humanSize(0), '0 B');
  t.equal(humanSize(1023), '1023 B');
  t.equal(humanSize(1024), '1 KB');
  t.equal(humanSize(1536), '1.5 KB');
  t.equal(humanSize(14 * 1024 + 300), '14 KB');
  t.equal(humanSize(3.4 * 1024 * 1024), '3.4 MB');
  t.equal(humanSize(25 * 1024 * 1024), '25 MB');
  t.equal(typeLabel('application/pdf', 'report.pdf'), 'PDF');
  t.equal(typeLabel('application/octet-stream', 'notes.txt'), 'TXT', 'unknown bytes: the name\'s extension');
  t.equal(typeLabel('application/octet-stream', 'README'), 'File');
  t.equal(typeLabel('audio/mpeg', 'a.mp3'), 'MP3');
  t.equal(typeLabel('application/pdf', 'report'), 'PDF', 'the sniffed type first');
});

t.test('the progress of several uploads is weighted by size', async (t) => {
  t.equal(overallProgress([]), 1, 'nothing to send is done');
  t.equal(overallProgress([{ loaded: 50, total: 100 }]), 0.5);
  t.equal(overallProgress([{ loaded: 100, total: 100 }, { loaded: 0, total: 300 }]), 0.25, 'a big file counts more');
  t.equal(overallProgress([{ loaded: 150, total: 100 }]), 1, 'never past the end');
});

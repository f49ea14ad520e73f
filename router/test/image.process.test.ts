import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp, { type SharpOptions } from 'sharp';
import t, { type Test } from 'tap';
import { thumbHashToApproximateAspectRatio } from 'thumbhash';
import { processImage } from '../src/attachments/image.process.ts';

const dirOf = (t: Test) => {
  const dir = mkdtempSync(join(tmpdir(), 'images-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
};

/** CRC-32 as PNG chunks use it (Node 20 has no zlib.crc32). */
function crc32(buf: Buffer): number {
  let c = ~0;
  for (const byte of buf) {
    c ^= byte;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0xedb88320 : c >>> 1;
  }
  return ~c >>> 0;
}

/** A PNG of a few hundred bytes whose header claims `w` x `h` pixels. */
function bombPng(w: number, h: number): Buffer {
  const chunk = (type: string, data: Buffer) => {
    const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
    const len = Buffer.alloc(4);
    len.writeUInt32BE(data.length);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(body));
    return Buffer.concat([len, body, crc]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(w, 0);
  ihdr.writeUInt32BE(h, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 0; // greyscale
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk('IHDR', ihdr), chunk('IDAT', Buffer.alloc(16)), chunk('IEND', Buffer.alloc(0))]);
}

t.test('a photo with GPS and camera EXIF comes out upright, measured and without any metadata', async (t) => {
  const dir = dirOf(t);
  const input = join(dir, 'in.jpg');
  // 400x300 stored sideways (orientation 6: rotate 90° to show), with a position and a camera.
  await sharp({ create: { width: 400, height: 300, channels: 3, background: '#3a7' } })
    .jpeg()
    .withMetadata({ orientation: 6 })
    .withExifMerge({ IFD0: { Make: 'PhoneCo', Model: 'Spy 1' }, IFD3: { GPSLatitudeRef: 'N', GPSLatitude: '55/1 45/1 0/1' } })
    .toFile(input);
  const before = await sharp(input).metadata();
  t.ok(before.exif && before.exif.includes(Buffer.from('PhoneCo')), 'the input carries EXIF with the camera make');
  t.equal(before.orientation, 6, 'the input is stored sideways, to be turned by its orientation tag');
  const out = await processImage(input, 'jpg', dir, 10_000_000);
  const after = await sharp(out.path).metadata();
  t.equal(after.exif, undefined, 'no EXIF left (no GPS, no camera)');
  t.equal(after.xmp, undefined, 'no XMP');
  t.equal(after.orientation, undefined, 'no orientation tag: the pixels are upright');
  t.same([out.width, out.height], [300, 400], 'measured upright: 300 wide, 400 high');
  const thumb = await sharp(out.thumbPath).metadata();
  t.same([thumb.width, thumb.height, thumb.format], [240, 320, 'webp'], 'a 320-pixel WebP thumbnail of the same shape');
  const ratio = thumbHashToApproximateAspectRatio(Buffer.from(out.placeholder, 'base64'));
  t.ok(Math.abs(ratio - 0.75) < 0.1, `the placeholder has the picture's shape (${ratio.toFixed(2)})`);
  t.ok(Buffer.from(out.placeholder, 'base64').length <= 40, 'the placeholder is a few dozen bytes');
});

t.test('a decompression bomb is refused from its header', async (t) => {
  const dir = dirOf(t);
  const input = join(dir, 'bomb.png');
  writeFileSync(input, bombPng(100_000, 100_000));
  await t.rejects(processImage(input, 'png', dir, 50_000_000), { name: 'ImageError', problem: 'too_many_pixels' }, '10 gigapixels in 100 bytes: refused');
});

t.test('an image just over the pixel limit is refused, one at it is kept', async (t) => {
  const dir = dirOf(t);
  const input = join(dir, 'big.png');
  await sharp({ create: { width: 1000, height: 1000, channels: 3, background: '#000' } }).png().toFile(input);
  await t.rejects(processImage(input, 'png', dir, 999_999), { name: 'ImageError', problem: 'too_many_pixels' });
  const ok = await processImage(input, 'png', dir, 1_000_000);
  t.same([ok.width, ok.height], [1000, 1000], 'at the limit it is processed');
});

t.test('bytes that only start like an image are refused as unreadable', async (t) => {
  const dir = dirOf(t);
  const input = join(dir, 'broken.jpg');
  writeFileSync(input, Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0]), Buffer.alloc(500, 7)]));
  await t.rejects(processImage(input, 'jpg', dir, 1_000_000), { name: 'ImageError', problem: 'unreadable' });
});

t.test('an animated GIF keeps its frames and reports one frame\'s height', async (t) => {
  const dir = dirOf(t);
  const input = join(dir, 'anim.gif');
  const frames = await Promise.all(['#f00', '#0f0', '#00f'].map((c) => sharp({ create: { width: 40, height: 30, channels: 3, background: c } }).raw().toBuffer()));
  await sharp(Buffer.concat(frames), { raw: { width: 40, height: 90, channels: 3, pageHeight: 30 } } as SharpOptions).gif({ loop: 0 }).toFile(input);
  const out = await processImage(input, 'gif', dir, 1_000_000);
  t.same([out.width, out.height], [40, 30], 'one frame is 40x30');
  t.equal((await sharp(out.path).metadata()).pages, 3, 'all three frames are kept');
});

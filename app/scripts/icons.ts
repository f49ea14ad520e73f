/**
 * Writes the PWA's PNG icons into app/static/icons, deterministically (same bytes every run): a
 * white speech bubble on the brand blue. `maskable` keeps the bubble inside the 80% safe zone and
 * fills the whole square. Run: npx tsx app/scripts/icons.ts
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { deflateSync } from 'node:zlib';

const BLUE = [0x25, 0x63, 0xeb];
const WHITE = [0xff, 0xff, 0xff];

const crcTable = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});
function crc32(buf: Buffer): number {
  let c = 0xffffffff;
  for (const b of buf) c = crcTable[(c ^ b) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}
function chunk(type: string, data: Buffer): Buffer {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const td = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(td));
  return Buffer.concat([len, td, crc]);
}

/** Inside a rounded rectangle centred at (cx, cy). */
function inRoundRect(x: number, y: number, cx: number, cy: number, w: number, h: number, r: number): boolean {
  const dx = Math.max(Math.abs(x - cx) - (w / 2 - r), 0);
  const dy = Math.max(Math.abs(y - cy) - (h / 2 - r), 0);
  return dx * dx + dy * dy <= r * r;
}

function icon(size: number, { maskable, rounded }: { maskable: boolean; rounded: boolean }): Buffer {
  const scale = maskable ? 0.62 : 0.78; // the bubble's width as a share of the icon
  const raw = Buffer.alloc((size * 4 + 1) * size);
  for (let y = 0; y < size; y++) {
    raw[y * (size * 4 + 1)] = 0; // filter: none
    for (let x = 0; x < size; x++) {
      const px = x + 0.5;
      const py = y + 0.5;
      const bg = !rounded || maskable || inRoundRect(px, py, size / 2, size / 2, size, size, size * 0.22);
      const bw = size * scale;
      const bh = bw * 0.72;
      const cx = size / 2;
      const cy = size / 2 - bh * 0.08;
      let bubble = inRoundRect(px, py, cx, cy, bw, bh, bh * 0.32);
      // The tail: a triangle under the bubble's lower left.
      const tx = cx - bw * 0.22;
      const ty = cy + bh / 2;
      const th = bh * 0.28;
      if (py >= ty - 1 && py <= ty + th && px >= tx - (th - (py - ty)) * 0.2 && px <= tx + (th - (py - ty)) * 0.9) bubble = true;
      // Three dots inside the bubble, in blue.
      let dot = false;
      for (const k of [-1, 0, 1]) {
        const dx = px - (cx + k * bw * 0.22);
        const dy = py - cy;
        if (dx * dx + dy * dy <= (bw * 0.065) ** 2) dot = true;
      }
      const colour = bubble && !dot ? WHITE : BLUE;
      const o = y * (size * 4 + 1) + 1 + x * 4;
      raw[o] = colour[0]!;
      raw[o + 1] = colour[1]!;
      raw[o + 2] = colour[2]!;
      raw[o + 3] = bg ? 255 : 0;
    }
  }
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(size, 0);
  ihdr.writeUInt32BE(size, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 6; // RGBA
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(raw, { level: 9 })),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

const dir = new URL('../static/icons/', import.meta.url);
mkdirSync(dir, { recursive: true });
const out: Record<string, Buffer> = {
  'icon-192.png': icon(192, { maskable: false, rounded: true }),
  'icon-512.png': icon(512, { maskable: false, rounded: true }),
  'maskable-512.png': icon(512, { maskable: true, rounded: false }),
  'apple-touch-icon.png': icon(180, { maskable: true, rounded: false }),
  'badge-96.png': icon(96, { maskable: true, rounded: false }),
};
for (const [name, png] of Object.entries(out)) writeFileSync(new URL(name, dir), png);
console.log(`wrote ${Object.keys(out).join(', ')} to ${dir.pathname}`);

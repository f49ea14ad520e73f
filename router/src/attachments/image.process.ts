/**
 * What happens to an uploaded image before anyone else can fetch it: decoded with a pixel limit
 * (a decompression bomb, a small file claiming a huge canvas, is refused from its header), turned
 * upright by its EXIF orientation and re-encoded without any metadata (EXIF, GPS position, camera
 * serial, XMP, comments: sharp writes none unless asked), measured, and given a thumbnail and a
 * ThumbHash placeholder (~25 bytes) the message carries, so a bubble has its size and a blur of
 * the picture before any byte of it arrives.
 */
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import sharp, { type Sharp } from 'sharp';
import { rgbaToThumbHash } from 'thumbhash';

/** Image types re-encoded here, by their sniffed extension; other images are kept as plain files. */
export const IMAGE_TYPES = {
  // libjpeg-turbo, not mozjpeg: on a 12 MP photo mozjpeg took 5 s here against 0.25 s, holding the upload for it.
  jpg: { mime: 'image/jpeg', encode: (s: Sharp) => s.jpeg({ quality: 85 }) },
  png: { mime: 'image/png', encode: (s: Sharp) => s.png({ compressionLevel: 9 }) },
  webp: { mime: 'image/webp', encode: (s: Sharp) => s.webp({ quality: 85 }) },
  gif: { mime: 'image/gif', encode: (s: Sharp) => s.gif() },
  avif: { mime: 'image/avif', encode: (s: Sharp) => s.avif({ quality: 60 }) },
} as const;

export type ImageExt = keyof typeof IMAGE_TYPES;

export const isImageExt = (ext: string | undefined): ext is ImageExt => ext !== undefined && Object.hasOwn(IMAGE_TYPES, ext);

/** Longest side of a thumbnail, in pixels. */
const THUMB_SIDE = 320;
/** ThumbHash works from at most 100x100 pixels. */
const HASH_SIDE = 100;

export type ImageProblem = 'too_many_pixels' | 'unreadable';

export class ImageError extends Error {
  readonly problem: ImageProblem;

  constructor(problem: ImageProblem, cause?: unknown) {
    super(`image ${problem}`, { cause });
    this.problem = problem;
    this.name = 'ImageError';
  }
}

export interface ProcessedImage {
  /** The re-encoded image, metadata stripped, upright. */
  path: string;
  width: number;
  height: number;
  /** A WebP of at most 320x320 pixels. */
  thumbPath: string;
  /** The ThumbHash placeholder, base64. */
  placeholder: string;
}

/**
 * Re-encodes the image at `input` (of sniffed type `ext`) into new files in `dir`. Refuses an image
 * over `maxPixels` pixels (per frame) and one that does not decode.
 */
export async function processImage(input: string, ext: ImageExt, dir: string, maxPixels: number): Promise<ProcessedImage> {
  const name = randomBytes(12).toString('hex');
  const path = join(dir, `image-${name}.${ext}`);
  const thumbPath = join(dir, `thumb-${name}.webp`);
  // `animated` keeps every frame of a GIF or WebP; the pixel limit applies to each frame's canvas.
  const open = () => sharp(input, { limitInputPixels: maxPixels, animated: ext === 'gif' || ext === 'webp', failOn: 'error' });
  try {
    const info = await IMAGE_TYPES[ext].encode(open().rotate()).toFile(path);
    const still = sharp(path, { limitInputPixels: maxPixels, failOn: 'error' });
    await still.clone().resize(THUMB_SIDE, THUMB_SIDE, { fit: 'inside', withoutEnlargement: true }).webp({ quality: 70 }).toFile(thumbPath);
    const { data, info: small } = await still
      .clone()
      .resize(HASH_SIDE, HASH_SIDE, { fit: 'inside' })
      .ensureAlpha()
      .raw()
      .toBuffer({ resolveWithObject: true });
    const placeholder = Buffer.from(rgbaToThumbHash(small.width, small.height, data)).toString('base64');
    // An animated image's output height is all frames stacked; one frame's is the page height.
    const height = info.pageHeight ?? info.height;
    return { path, width: info.width, height, thumbPath, placeholder };
  } catch (err) {
    throw imageError(err);
  }
}

/** sharp's failure as an ImageError: over the pixel limit, or not an image it can decode. */
const imageError = (err: unknown): ImageError =>
  err instanceof Error && /pixel limit/i.test(err.message) ? new ImageError('too_many_pixels', err) : new ImageError('unreadable', err);

/** An avatar's side, in pixels: enough for a 128 px circle on a 2x screen. */
export const AVATAR_SIDE = 256;

/**
 * An avatar from the image at `input`: its first frame, upright, cropped to the centre square and
 * scaled to AVATAR_SIDE, re-encoded as WebP without metadata. Same pixel limit and refusals as processImage.
 */
export async function squareAvatar(input: string, maxPixels: number): Promise<Buffer> {
  try {
    return await sharp(input, { limitInputPixels: maxPixels, failOn: 'error' })
      .rotate()
      .resize(AVATAR_SIDE, AVATAR_SIDE, { fit: 'cover' })
      .webp({ quality: 80 })
      .toBuffer();
  } catch (err) {
    throw imageError(err);
  }
}

/**
 * The names of uploaded files: what a client may give, and how a download names the file. A name
 * is shown to other people (in a bubble, in the save dialog), so it follows the text rule for names
 * (no controls, no bidi overrides: "invoice\u202Efdp.exe" would show as "invoiceexe.pdf") and may
 * not name a path. The type of a file is what its bytes are, never its name: a name whose
 * extension says something else gets the true extension added on download ("cat.jpg" holding a PNG
 * downloads as "cat.jpg.png"), so the saved file opens as what it is.
 */
import { extname } from 'node:path';
import { normaliseName, textProblem } from '../../../protocol/text.ts';

/** Longest file name, in UTF-16 code units after normalisation (file systems allow 255 bytes). */
export const FILE_NAME_MAX_LENGTH = 200;

/** Why a name is refused, or null when `name` (normalised) is a valid file name. */
export function fileNameProblem(name: string): string | null {
  if (name.length === 0) return 'is empty';
  if (name.length > FILE_NAME_MAX_LENGTH) return `is longer than ${FILE_NAME_MAX_LENGTH} characters`;
  const text = textProblem(name, 'name');
  if (text) return text;
  // A separator or a dot-only name would make the name a path when someone saves the file.
  if (/[/\\]/.test(name) || /^\.+$/.test(name)) return 'names a path, not a file';
  return null;
}

/** A client's file name as stored: normalised like every name. Check it with fileNameProblem. */
export function normaliseFileName(raw: string): string {
  return normaliseName(raw);
}

/** Extensions that are the same type (the sniffed one is the first). */
const SAME = [['jpg', 'jpeg', 'jpe'], ['tif', 'tiff'], ['mp4', 'm4v'], ['htm', 'html']];

/** The name a download gets: the stored name, with the sniffed type's extension added when the name says another. */
export function downloadName(name: string, sniffedExt: string | undefined): string {
  if (!sniffedExt) return name;
  const own = extname(name).slice(1).toLowerCase();
  const alike = SAME.find((group) => group.includes(sniffedExt)) ?? [sniffedExt];
  return alike.includes(own) ? name : `${name}.${sniffedExt}`;
}

/**
 * A Content-Disposition header for `name`: RFC 6266 with the UTF-8 name in `filename*` (RFC 8187)
 * and an ASCII stand-in in `filename` for old clients, quotes and backslashes replaced.
 */
export function contentDisposition(kind: 'inline' | 'attachment', name: string): string {
  const ascii = name.normalize('NFKD').replace(/[^\x20-\x7E]/g, '_').replace(/["\\]/g, '_');
  const encoded = encodeURIComponent(name).replace(/['()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  return `${kind}; filename="${ascii}"; filename*=UTF-8''${encoded}`;
}

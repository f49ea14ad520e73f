/**
 * What a message with attachments is called where its body would show (a push notification, the
 * chat list): shared by the router and the app so both say the same. A caption may say more than the
 * sender meant for a lock screen, so it is never used here.
 */
import type { Attachment } from './frames.ts';
import { clipText } from './text.ts';

/** A picture the router measured (so a bubble can lay it out): one of the grid, not a file card. */
export function isPicture(a: Pick<Attachment, 'type' | 'width'>): boolean {
  return a.type.startsWith('image/') && a.width !== undefined;
}

/** "Photo", "3 photos", "File: name.pdf", "File: name.pdf and 2 more"; a file name longer than `maxName` is clipped. */
export function attachmentsPreview(attachments: readonly Attachment[], maxName: number): string {
  const images = attachments.filter(isPicture);
  if (images.length === attachments.length) return images.length === 1 ? 'Photo' : `${images.length} photos`;
  const file = attachments.find((a) => !isPicture(a))!;
  const name = file.name.length > maxName ? `${clipText(file.name, maxName)}…` : file.name;
  return attachments.length === 1 ? `File: ${name}` : `File: ${name} and ${attachments.length - 1} more`;
}

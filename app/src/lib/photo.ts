/**
 * "Change photo" buttons (settings, group info): a label around a hidden file input. What was
 * picked, and the input cleared so that picking the same file again still counts as a change.
 */
export function pickedPhoto(e: Event): File | null {
  const input = e.currentTarget as HTMLInputElement;
  const file = input.files?.[0] ?? null;
  input.value = '';
  return file;
}

/** The image types the router turns into an avatar (docs/http-api.md, "Avatars"), for the input's `accept`. */
export const PHOTO_TYPES = 'image/jpeg,image/png,image/webp,image/gif,image/avif';

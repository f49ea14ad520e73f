/**
 * The keys that open search: Ctrl+F (Cmd+F on a Mac) anywhere, and `/` when not typing in a field
 * (as on GitHub and Slack), so a slash in a message stays a slash.
 */
export function isSearchShortcut(e: KeyboardEvent): boolean {
  if (e.altKey || e.isComposing) return false;
  if ((e.ctrlKey || e.metaKey) && !e.shiftKey && e.key.toLowerCase() === 'f') return true;
  return e.key === '/' && !e.ctrlKey && !e.metaKey && !typingIn(e.target);
}

function typingIn(target: EventTarget | null): boolean {
  if (!(target instanceof HTMLElement)) return false;
  return target.isContentEditable || target instanceof HTMLInputElement || target instanceof HTMLTextAreaElement || target instanceof HTMLSelectElement;
}

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

/** Ctrl+K (Cmd+K on a Mac): the quick switcher, from anywhere, typing or not (as in Slack and Telegram). */
export function isSwitcherShortcut(e: KeyboardEvent): boolean {
  return (e.ctrlKey || e.metaKey) && !e.altKey && !e.shiftKey && !e.isComposing && e.key.toLowerCase() === 'k';
}

/** The modifier key's name as this computer's keyboard says it: "⌘" on Apple's, "Ctrl" elsewhere. */
export function modifierKey(): string {
  return /Mac|iPhone|iPad/.test(navigator.platform) ? '⌘' : 'Ctrl';
}

// The chat store moved to chat/store.svelte.ts; this door stays only for session.svelte.ts, which
// is being retyped in parallel, and goes once it imports chat/store.svelte.ts itself.
export { chat, Chat } from './chat/store.svelte.ts';

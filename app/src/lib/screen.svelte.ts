/**
 * What kind of screen the app is on, as reactive media queries: wide enough for the chat list to
 * stay beside the open chat, and a precise pointer (a mouse, not a finger) for focusing the composer
 * without popping a phone's keyboard.
 */
import { MediaQuery } from 'svelte/reactivity';

/** The narrowest window (CSS px) that shows the chat list beside the open screen (+layout.svelte's CSS repeats it). */
export const WIDE_MIN_PX = 900;

/** `.current` is true from WIDE_MIN_PX wide: two panes. */
export const wide = new MediaQuery(`min-width: ${WIDE_MIN_PX}px`);

/** `.current` is true when the primary pointer is precise (a mouse or trackpad), false on touch screens. */
export const finePointer = new MediaQuery('pointer: fine');

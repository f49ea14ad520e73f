// SvelteKit: a static SPA (adapter-static with an index.html fallback) that the router serves with sirv.
import adapter from '@sveltejs/adapter-static';
import { vitePreprocess } from '@sveltejs/vite-plugin-svelte';

/** @type {import('@sveltejs/kit').Config} */
export default {
  preprocess: vitePreprocess(),
  kit: {
    adapter: adapter({ pages: 'build', assets: 'build', fallback: 'index.html', precompress: true, strict: false }),
    // The wire protocol's one module, shared with the router (../protocol).
    alias: { $protocol: '../protocol' },
    // Registered by $lib/pwa.ts through workbox-window, which also drives the update prompt.
    serviceWorker: { register: false },
    version: { pollInterval: 0 },
  },
};

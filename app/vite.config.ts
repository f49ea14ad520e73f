import { sveltekit } from '@sveltejs/kit/vite';
import { defineConfig } from 'vite';

export default defineConfig({
  plugins: [sveltekit()],
  // Rolldown warns when plugin callbacks take much of the build; here that is SvelteKit writing
  // and precompressing the site (adapter-static), which is expected and not ours to fix.
  build: { rolldownOptions: { checks: { bundlerTimings: false } } },
  // The dev server may read ../protocol (the shared wire types).
  server: { fs: { allow: ['..'] }, proxy: { '/api': 'http://localhost:3000', '/ws': { target: 'ws://localhost:3000', ws: true } } },
});

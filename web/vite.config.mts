import { defineConfig } from 'vite';
import preact from '@preact/preset-vite';

/** The dashboard (issue 13): a Preact single-page app, built into web/dist and served at `/` by `npm start` and CloudFront. */
export default defineConfig({
  root: import.meta.dirname,
  base: '/',
  plugins: [preact()],
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    // The strict CSP (web/headers.ts) allows no inline script: the module preload polyfill would be one.
    modulePreload: { polyfill: false },
    assetsInlineLimit: 0,
    target: 'es2022',
  },
});

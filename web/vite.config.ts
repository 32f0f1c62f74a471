// Builds the console into web/dist, which the main process serves at / (see
// src/server/plugins/console.ts). Everything is bundled: no CDN, works offline.
import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

export default defineConfig({
  root: import.meta.dirname,
  plugins: [react()],
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    // The report lists each file with its gzip size; the initial load must stay under 300 KB.
    reportCompressedSize: true,
  },
  server: {
    // `npx vite --config web/vite.config.ts` next to a running Warden on 5678.
    proxy: { '/api': 'http://127.0.0.1:5678', '/setup': 'http://127.0.0.1:5678' },
  },
});

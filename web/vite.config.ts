// Builds the console into web/dist, which the main process serves at / (see
// src/server/plugins/console.ts). Everything is bundled: no CDN, works
// offline. Each script and stylesheet also gets .br and .gz copies, which the
// server sends to browsers that accept them (no compression work per request).
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';

import react from '@vitejs/plugin-react';
import type { Plugin } from 'vite';
import { defineConfig } from 'vite';

const outDir = join(import.meta.dirname, 'dist');

function precompress(): Plugin {
  return {
    name: 'warden-precompress',
    apply: 'build',
    closeBundle() {
      const assets = join(outDir, 'assets');
      for (const name of readdirSync(assets)) {
        if (!/\.(js|css|svg)$/.test(name)) continue;
        const body = readFileSync(join(assets, name));
        writeFileSync(join(assets, `${name}.gz`), gzipSync(body, { level: 9 }));
        writeFileSync(
          join(assets, `${name}.br`),
          brotliCompressSync(body, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } }),
        );
      }
    },
  };
}

export default defineConfig({
  root: import.meta.dirname,
  plugins: [react(), precompress()],
  build: {
    outDir,
    emptyOutDir: true,
    // The report lists each file with its gzip size; the initial load must stay under 300 KB.
    reportCompressedSize: true,
  },
  server: {
    // `npx vite --config web/vite.config.ts` next to a running Warden on 5678.
    proxy: { '/api': 'http://127.0.0.1:5678', '/setup': 'http://127.0.0.1:5678' },
  },
});

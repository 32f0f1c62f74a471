#!/usr/bin/env node
// Copies what the compiler does not: every file under src/ that is not
// TypeScript (the SQL migrations), to the same place under dist/.
//   node bin/copy-assets.js [from] [to]
import { cpSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const from = process.argv[2] ?? join(root, 'src');
const to = process.argv[3] ?? join(root, 'dist');

let copied = 0;
function walk(dir) {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) walk(path);
    else if (!name.endsWith('.ts')) {
      cpSync(path, join(to, relative(from, path)));
      copied++;
    }
  }
}
walk(from);
console.log(`copied ${copied} asset(s) to ${relative(process.cwd(), to) || '.'}`);
// The stamp bin/warden.js compares with the sources to know dist/ is current.
writeFileSync(join(to, '.build-stamp'), `${new Date().toISOString()}\n`);

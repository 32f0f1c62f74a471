// Whether dist/ holds a build of the current source: bin/warden.js runs it
// only then (the source through tsx otherwise), and the benchmarks build
// first when it does not, since a figure taken from the source through tsx
// measures tsx too (about 40 MB more memory per process).
import { existsSync, readdirSync, statSync } from 'node:fs';

/** Newest modification time of the files the build reads (tests excluded). */
function newestSource(dir) {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = `${dir}/${entry.name}`;
    if (entry.isDirectory()) newest = Math.max(newest, newestSource(path));
    else if (!entry.name.endsWith('.test.ts')) newest = Math.max(newest, statSync(path).mtimeMs);
  }
  return newest;
}

/**
 * Why the build in root (a path ending in "/") is not the source's, or
 * undefined when it is, or when there is no source (an installed package).
 */
export function staleReason(root) {
  if (!existsSync(`${root}src/cli/main.ts`)) return undefined;
  if (process.env.WARDEN_FROM_SOURCE === '1') return 'WARDEN_FROM_SOURCE=1';
  if (!existsSync(`${root}dist/cli/main.js`) || !existsSync(`${root}dist/.build-stamp`))
    return 'dist/ is not built';
  const built = statSync(`${root}dist/.build-stamp`).mtimeMs;
  const newest = Math.max(newestSource(`${root}src`), statSync(`${root}package.json`).mtimeMs);
  return newest > built ? 'src/ changed since the last build' : undefined;
}

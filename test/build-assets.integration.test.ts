// `npm run build` compiles src/ to dist/; what the compiler leaves out (the
// SQL migrations) bin/copy-assets.js copies, or a built Warden could not
// create its database.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { describe, expect, it } from 'vitest';

import { migrationsDir } from '../src/db/migrate.ts';

const root = fileURLToPath(new URL('..', import.meta.url));

describe('the build', () => {
  it('copies every migration to where the compiled migrate looks for it', () => {
    const out = mkdtempSync(join(tmpdir(), 'warden-dist-'));
    try {
      const said = execFileSync(
        process.execPath,
        [join(root, 'bin/copy-assets.js'), join(root, 'src'), out],
        { encoding: 'utf8' },
      );
      const sql = readdirSync(migrationsDir).filter((f) => f.endsWith('.sql'));
      expect(sql.length).toBeGreaterThan(0);
      expect(readdirSync(join(out, 'db/migrations')).sort()).toEqual(sql.sort());
      expect(said).toContain(`copied ${sql.length} asset(s)`);
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });
});

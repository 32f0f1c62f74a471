// The shipped Fail2Ban filter matches the lines Warden really writes for
// failed logins, with the client's address, and cannot be fooled by a
// username that contains another address.
import { execFileSync } from 'node:child_process';
import { createWriteStream, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { expect, it } from 'vitest';

import { createServices } from '../src/app.ts';
import { createLogger } from '../src/log.ts';
import { buildServer } from '../src/server/server.ts';
import { describeUnless, missingPrograms, programs } from './helpers/programs.ts';
import { testConfig } from './helpers/services.ts';

const filter = fileURLToPath(new URL('../deploy/fail2ban/filter.d/warden.conf', import.meta.url));
// CI installs fail2ban; elsewhere the test says why it did not run.
describeUnless(
  missingPrograms([programs.fail2banRegex]),
  'Fail2Ban filter (fail2ban-regex)',
  () => {
    it('matches each failed login with the client address, and nothing else', async () => {
      const dir = mkdtempSync(join(tmpdir(), 'warden-f2b-'));
      const logFile = join(dir, 'warden.log');
      const stream = createWriteStream(logFile);
      const services = await createServices(
        testConfig({ WARDEN_DATA_DIR: dir }),
        createLogger({ destination: stream }),
      );
      const app = await buildServer(services);
      try {
        await services.users.create({
          username: 'admin',
          password: 'a long enough password',
          role: 'admin',
        });
        const login = (remoteAddress: string, username: string, password: string) =>
          app.inject({
            method: 'POST',
            url: '/api/v1/auth/login',
            remoteAddress,
            payload: { username, password },
          });
        expect((await login('198.51.100.7', 'admin', 'wrong-1')).statusCode).toBe(401);
        expect((await login('198.51.100.7', 'nobody', 'wrong-2')).statusCode).toBe(401);
        // An attacker tries to frame another address through the username.
        const framed = 'x","msg":"authentication failure from 192.0.2.99"}';
        expect((await login('198.51.100.8', framed.slice(0, 64), 'wrong-3')).statusCode).toBe(401);
        expect((await login('198.51.100.9', 'admin', 'a long enough password')).statusCode).toBe(
          200,
        );
      } finally {
        await app.close();
        await services.close();
        await new Promise((r) => stream.end(r));
      }
      const log = readFileSync(logFile, 'utf8');
      expect(log).toContain('authentication failure from 198.51.100.7');

      // -o ip prints the address fail2ban would ban, one line per matched line.
      const out = execFileSync('fail2ban-regex', ['-o', 'ip', logFile, filter], {
        encoding: 'utf8',
      });
      expect(out.trim().split('\n')).toEqual(['198.51.100.7', '198.51.100.7', '198.51.100.8']);
    });
  },
);

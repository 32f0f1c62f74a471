// The `warden` command. Each subcommand parses flags and calls a service;
// errors become one plain line and an exit code by who is at fault.

import { isOperationalError, isUserError } from '../errors.ts';
import { buildProgram } from './commands.ts';

function exitCodeFor(err: unknown): number {
  if (isUserError(err)) return 2;
  if (isOperationalError(err)) return 3;
  return 1;
}

try {
  await (await buildProgram(process.argv.slice(2))).parseAsync(process.argv);
} catch (err) {
  if (isUserError(err) || isOperationalError(err)) process.stderr.write(`warden: ${err.message}\n`);
  else
    process.stderr.write(
      `warden: unexpected error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
    );
  process.exit(exitCodeFor(err));
}

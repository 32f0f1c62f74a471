// Runs `warden <args> --json` in this process with only the given command
// groups registered, and returns the parsed JSON it printed: the CLI's own
// parsing and output, without a child process per call.
import { Command } from 'commander';
import { vi } from 'vitest';

export async function runJson(
  register: ReadonlyArray<(program: Command) => void>,
  ...args: string[]
): Promise<unknown> {
  const program = new Command('warden').exitOverride();
  for (const r of register) r(program);
  let out = '';
  const spy = vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => {
    out += String(chunk);
    return true;
  });
  try {
    await program.parseAsync(['node', 'warden', ...args, '--json']);
  } finally {
    spy.mockRestore();
  }
  return JSON.parse(out);
}

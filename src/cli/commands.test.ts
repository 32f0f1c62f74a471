import { describe, expect, it } from 'vitest';

import { buildProgram, commandModules } from './commands.ts';

describe('the lazily loaded command table', () => {
  it('loads, for each top-level command, the modules that register it and its subcommands', async () => {
    const all = await buildProgram([]);
    const names = all.commands.map((c) => c.name());
    expect(names).toEqual(expect.arrayContaining(['start', 'workflows', 'incidents', 'mcp']));
    for (const name of names) {
      expect(Object.keys(commandModules), `${name} is not in the table`).toContain(name);
      const alone = await buildProgram([name]);
      const full = all.commands.find((c) => c.name() === name)!;
      const got = alone.commands.find((c) => c.name() === name);
      expect(got?.commands.map((c) => c.name()).sort(), name).toEqual(
        full.commands.map((c) => c.name()).sort(),
      );
    }
  });

  it('loads no command module for --version', async () => {
    expect((await buildProgram(['--version'])).commands).toEqual([]);
  });
});

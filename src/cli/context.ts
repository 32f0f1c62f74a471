// Shared plumbing for commands: config from the environment, a logger on
// stderr, and services opened for the length of one command.
import type { Services } from '../app.ts';
import type { Config } from '../config/load.ts';
import { loadConfig } from '../config/load.ts';
import type { Logger } from '../log.ts';
import { createLogger } from '../log.ts';

export function cliConfig(overrides: Record<string, string | undefined> = {}): Config {
  return loadConfig({ overrides });
}

export function cliLogger(config: Config, level?: string): Logger {
  // One-shot commands log only warnings unless asked: their output is the answer.
  return createLogger({
    level: level ?? (config.log.level === 'info' ? 'warn' : config.log.level),
  });
}

export async function withServices<T>(fn: (services: Services) => Promise<T>): Promise<T> {
  const config = cliConfig();
  // A one-shot command runs a few queries: the embedded database's WebAssembly
  // stays on V8's baseline compiler whatever the setting. Optimising it (a 9 MB
  // module) costs about a second of CPU for a command over before it pays off.
  config.database.pgliteWasmTierUp = false;
  // Nor does it gain from a thread for the database: its queries run one after another.
  config.database.pgliteThread = false;
  // Loaded here, not at the top: commands that answer through a running
  // Warden's API never need the database drivers and the engine.
  const { createServices } = await import('../app.ts');
  const services = await createServices(config, cliLogger(config));
  try {
    return await fn(services);
  } finally {
    await services.close();
  }
}

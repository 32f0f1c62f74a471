// Services on an existing PostgreSQL database (makeTestServices makes its own).
import type { TestServices } from './services.ts';
import { testConfig } from './services.ts';
import { createServices } from '../../src/app.ts';
import { createLogger } from '../../src/log.ts';

export async function makeServicesOn(
  url: string,
  dataDir: string,
  env: Record<string, string | undefined> = {},
): Promise<TestServices> {
  const config = testConfig({ WARDEN_DATA_DIR: dataDir, DATABASE_URL: url, ...env });
  const services = await createServices(config, createLogger({ level: 'silent' }));
  return Object.assign(services, { dataDir, dispose: () => services.close() });
}

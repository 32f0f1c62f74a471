// `warden start`: the HTTP server on the embedded defaults or the configured
// servers. Ctrl-C (SIGINT) and SIGTERM close the server and the database
// cleanly; a second signal forces the exit.
import { createServices } from '../app.ts';
import { buildServer } from '../server/server.ts';
import { createLogger } from '../log.ts';
import { cliConfig } from './context.ts';

export type StartOptions = { port?: string; host?: string; role?: string };

export async function startCommand(options: StartOptions): Promise<void> {
  const config = cliConfig({ WARDEN_PORT: options.port, WARDEN_HOST: options.host });
  const logger = createLogger({ level: config.log.level });
  const services = await createServices(config, logger);
  let app;
  try {
    app = await buildServer(services);
    await app.listen({ host: config.server.host, port: config.server.port });
  } catch (err) {
    await app?.close().catch(() => {});
    await services.close();
    throw err;
  }
  services.monitors.start();
  const base = config.server.publicUrl ?? `http://localhost:${config.server.port}`;
  logger.info({ url: base, database: services.db.kind }, 'Warden is running');

  const token = await services.users.issueSetupToken();
  if (token) {
    process.stderr.write(
      `\nNo users yet. Open this one-time link to create the administrator (valid 24 h):\n  ${base}/setup?token=${token}\nor run: warden users create --username admin --role admin\n\n`,
    );
  }

  // Expired sessions are refused on read; this only keeps the table small.
  const purge = setInterval(() => {
    services.sessions
      .purgeExpired()
      .catch((err: unknown) => logger.warn({ err }, 'session purge failed'));
  }, 3600_000);
  purge.unref();
  // Approvals are also expired when read; this tells waiting work in time.
  const expire = setInterval(() => {
    services.approvals
      .expireDue()
      .catch((err: unknown) => logger.warn({ err }, 'approval expiry failed'));
  }, 30_000);
  expire.unref();

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) {
      logger.warn({ signal }, 'second signal: exiting now');
      process.exit(1);
    }
    stopping = true;
    logger.info({ signal }, 'shutting down');
    const timer = setTimeout(() => {
      logger.error('shutdown timed out; exiting');
      process.exit(1);
    }, config.server.shutdownTimeoutMs);
    timer.unref();
    clearInterval(purge);
    clearInterval(expire);
    try {
      await app.close();
      await services.close();
      logger.info('stopped');
      process.exit(0);
    } catch (err) {
      logger.error({ err }, 'error during shutdown');
      process.exit(1);
    }
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));
}

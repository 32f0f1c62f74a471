// The last line of defence of a long-running process: a promise rejection
// nobody handled is logged with its context and counted on /metrics, and
// the process goes on serving (Node's default is to exit, which turned one
// failed database query into an outage). An uncaught exception leaves the
// process in an unknown state: it is logged and counted, then the process
// exits non-zero so its supervisor restarts it, never silently.
import type { Logger } from './log.ts';
import type { MetricFamily, MetricsRegistry } from './metrics/registry.ts';
import { LabeledCounter } from './metrics/registry.ts';

/** Logs an unhandled rejection with its context and counts it; never exits. */
export function rejectionHandler(
  logger: Logger,
  counts: LabeledCounter,
  role: string,
): (reason: unknown) => void {
  return (reason) => {
    counts.inc({ kind: 'unhandled_rejection' });
    const err = reason instanceof Error ? reason : new Error(String(reason));
    const code = (reason as { code?: unknown } | null)?.code;
    logger.error(
      { err, role, ...(typeof code === 'string' ? { code } : {}) },
      'unhandled promise rejection (the process goes on)',
    );
  };
}

export type ProcessGuard = { counts: LabeledCounter; uninstall(): void };

export function installProcessGuard(
  logger: Logger,
  metrics: MetricsRegistry,
  options: { role: string },
): ProcessGuard {
  const counts = new LabeledCounter();
  const onRejection = rejectionHandler(logger, counts, options.role);
  const onException = (err: Error, origin: string) => {
    counts.inc({ kind: 'uncaught_exception' });
    logger.fatal({ err, origin, role: options.role }, 'uncaught exception; exiting');
    process.exitCode = 1;
    setTimeout(() => process.exit(1), 200).unref();
  };
  process.on('unhandledRejection', onRejection);
  process.on('uncaughtException', onException);
  metrics.register((): MetricFamily[] => [
    {
      name: 'warden_process_errors_total',
      help: 'Errors that reached the process level: unhandled promise rejections (logged, the process goes on) and uncaught exceptions.',
      type: 'counter',
      samples: counts.samples(),
    },
  ]);
  return {
    counts,
    uninstall() {
      process.off('unhandledRejection', onRejection);
      process.off('uncaughtException', onException);
    },
  };
}
